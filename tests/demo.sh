#!/bin/sh
# make demo: validate the example specs (later: plan/apply against spotenv sim).
set -eu
echo "\$ spotenv validate specs/examples"
./spotenv validate specs/examples
