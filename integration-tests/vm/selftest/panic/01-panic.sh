#!/bin/sh
# Runner self-test: a kernel panic in the middle of a case.
echo c >/proc/sysrq-trigger
