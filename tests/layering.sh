#!/usr/bin/env bash
# Fails when a layer includes what DESIGN.md forbids it to. Every include of
# the project's own headers names its folder from the top of the tree
# ("server/core/service.hpp"), so a crossing is always visible to a grep.
set -u
root=${1:-.}
status=0
sources() {  # folder...
    find "$@" \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) -print 2>/dev/null
}
check() {  # folder, pattern, what
    local hits
    hits=$(sources "$root/$1" | xargs -r grep -nE "^\s*#\s*include\s*[<\"]($2)")
    if [ -n "$hits" ]; then
        echo "layering: $1 must not include $3:"
        echo "$hits"
        status=1
    fi
}
cd "$root" || exit 1
# A bare "name.hpp" would be found by include-path order, past this check.
bare=$(sources protocol storage server clients tests | xargs -r grep -nE '^\s*#\s*include\s*"[^/"]+"')
if [ -n "$bare" ]; then
    echo "layering: includes of the project's own headers must name their folder:"
    echo "$bare"
    status=1
fi
check server/core 'boost/asio|boost/beast|sqlite3\.h|server/net/|storage/sqlite/' \
    'Asio, Beast, SQLite or server/net'
check server/net 'storage/sqlite/|sqlite3\.h' 'the SQLite store (only server/main.cpp names it)'
check protocol 'server/|storage/|clients/|sqlite3\.h' 'server/, storage/ or clients/'
# protocol/asio/ is the one translation unit that compiles Asio and Beast.
hits=$(sources protocol | grep -v '^protocol/asio/' | xargs -r grep -nE '^\s*#\s*include\s*<boost/(asio|beast)')
if [ -n "$hits" ]; then
    echo "layering: protocol must not include Asio or Beast (both ends' pure pieces live there):"
    echo "$hits"
    status=1
fi
check clients 'server/|storage/|sqlite3\.h' 'server/ or storage/'
check storage 'server/|clients/|boost/asio|boost/beast' 'core, net, clients or Asio'
hits=$(grep -nE '^\s*#\s*include\s*[<"]sqlite3\.h' storage/*.hpp 2> /dev/null)
if [ -n "$hits" ]; then
    echo "layering: the Store interface must not include SQLite:"
    echo "$hits"
    status=1
fi
# The build must agree: no client or protocol target links a server or
# storage library.
for f in clients/*/CMakeLists.txt protocol/CMakeLists.txt; do
    if grep -nE 'relais_(core|net|sqlite|store_api)' "$f"; then
        echo "layering: $f links a server or storage library"
        status=1
    fi
done
[ $status -eq 0 ] && echo "layering: ok"
exit $status
