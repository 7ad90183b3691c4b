#!/bin/sh
# shellcheck shell=dash
# Runner self-test: the case hangs with a child; both are killed after 3 s.
# vmtest-timeout: 3
sleep 1000 &
sleep 1000
