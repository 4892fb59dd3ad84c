# Latency of one page (20 rows) of the heavy user by depth: keyset (inbox.list with a cursor)
# against LIMIT/OFFSET written by hand. Called by report.py with data='...' and out='...'.
set terminal pngcairo size 900,540 font 'sans,10' noenhanced
set output out
set title 'Page of 20 at depth N, heavy user (1 client, mean latency)'
set xlabel 'depth (rows skipped)'
set ylabel 'latency (ms, log scale)'
set logscale y
set grid
set key top left
set format x '%.0s%c'
plot data using 1:2 with linespoints lw 2 pt 7 title 'keyset: inbox.list after cursor', \
     data using 1:3 with linespoints lw 2 pt 5 title 'hand-written LIMIT 20 OFFSET N'
