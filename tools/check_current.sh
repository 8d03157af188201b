#!/bin/sh
# check_current.sh CHECKED_IN GENERATED
# Fails, saying how to fix it, when the checked-in copy of a generated file
# differs from what the build generates now.
set -u
if cmp -s "$1" "$2"; then
	exit 0
fi
echo "$1 is out of date: it differs from what the error catalog" \
    "(src/common/errors.def) generates." >&2
echo "Run 'make docs' (or 'ninja -C BUILD update-errors-md') and commit" \
    "the result." >&2
diff -u "$1" "$2" | head -n 40 >&2
exit 1
