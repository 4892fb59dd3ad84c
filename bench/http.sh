# HTTP steps (sourced by bench/steps.sh).
# shellcheck shell=bash
http_steps() { skip http "the REST server is not built yet"; }
