#!/bin/sh
# shellcheck shell=dash
# Runner self-test: skip with a reason.
# shellcheck source-path=SCRIPTDIR/../..
. ./lib.sh
require_file /nonexistent "needs the unobtainium"
