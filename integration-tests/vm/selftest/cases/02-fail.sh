#!/bin/sh
# shellcheck shell=dash
# Runner self-test: an assertion fails; its output must be shown.
# shellcheck source-path=SCRIPTDIR/../..
. ./lib.sh
echo "some output before the failure"
assert_eq 1 2 "one is not two"
