# Requests/s of each route through the server (wrk) against pgbench calling the same SQL
# function, by concurrency. Called by report.py with data='...', out='...' and series=N.
set terminal pngcairo size 1000,640 font 'sans,10' noenhanced
set output out
set title 'Server requests/s (solid) vs direct SQL through pgbench (dashed)'
set xlabel 'concurrent connections / clients'
set ylabel 'requests/s'
set logscale x 2
set grid
set key outside below horizontal maxcols 2
set yrange [0:*]
plot for [i=1:series] data using 1:(column(2*i)) with linespoints lw 2 lc i pt 7 dt 1 title columnheader(2*i), \
     for [i=1:series] data using 1:(column(2*i+1)) with linespoints lw 2 lc i pt 5 dt 2 title columnheader(2*i+1)
