#!/usr/bin/env bash
# Fails when a layer includes what DESIGN.md forbids it to.
set -u
root=${1:-.}
status=0
check() {  # folder, pattern, what
    local hits
    hits=$(grep -rnE "^\s*#\s*include\s*[<\"]($2)" "$root/$1" --include='*.hpp' --include='*.cpp' --include='*.h' 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "layering: $1 must not include $3:"
        echo "$hits"
        status=1
    fi
}
check server/core 'boost/asio|boost/beast|sqlite3\.h|sqlite_store\.hpp|net/' 'Asio, Beast, SQLite or net/'
check protocol 'server/|storage/|store\.hpp|service\.hpp|sqlite' 'server/ or storage/'
check clients 'server/|storage/|store\.hpp|service\.hpp|sqlite_store\.hpp|hub\.hpp|session\.hpp' 'server/ or storage/'
check storage 'service\.hpp|hub\.hpp|server/|boost/asio|boost/beast' 'core, net or Asio'
# By-name includes cannot hide a crossing: no server/ or storage/ folder may
# be on a client's or protocol's include path.
for f in "$root"/clients/*/CMakeLists.txt "$root"/protocol/CMakeLists.txt; do
    if grep -nE 'relais_(core|net|sqlite|store_api)' "$f"; then
        echo "layering: $f links a server or storage library"
        status=1
    fi
done
[ $status -eq 0 ] && echo "layering: ok"
exit $status
