#!/bin/sh
# gen-schema.sh OUT FILE...: embed the migrations into the binary as C
# string constants, so "certward migrate" needs no files at run time and
# the binary knows the schema version it was built for.
set -eu
out=$1
shift
tmp="$out.tmp"
{
    echo '/* Generated from the schema directory by schema/gen-schema.sh. */'
    echo '#include "config.h"'
    echo '#include "store/migrate.h"'
    echo 'const struct store_migration store_migrations[] = {'
    for f in "$@"; do
        base=$(basename "$f" .sql)
        ver=$(echo "$base" | sed -n 's/^\([0-9][0-9][0-9][0-9]\)_.*/\1/p')
        [ -n "$ver" ] || { echo "gen-schema: bad file name $f" >&2; exit 1; }
        printf '    { %d, "%s",\n' "$(echo "$ver" | sed 's/^0*//')" "$base"
        sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/      "/' -e 's/$/\\n"/' "$f"
        echo '    },'
    done
    echo '};'
    echo 'const unsigned store_nmigrations ='
    echo '    sizeof(store_migrations) / sizeof(store_migrations[0]);'
} > "$tmp"
mv "$tmp" "$out"
