#!/bin/sh
# The compiler launcher of the libraries marked otpd_asio_free() (cmake/asio_free.cmake):
#
#   asio_free_compile.sh LIBRARY [LAUNCHER...] COMPILER ARGS...
#
# Compiles as asked, then reads the dependency file the compiler wrote (-MD -MF FILE, as the
# Ninja and Makefile generators ask; Ninja deletes it once read, so it is read here, before
# that). If the source read an Asio header, the object is removed and the compile fails,
# naming the source, the header and the chain of includes that led to it.
library=$1
shift
"$@" || exit $?

depfile='' object='' source='' prev=''
for arg in "$@"; do
  case $prev in
    -MF) depfile=$arg ;;
    -o) object=$arg ;;
    -c) source=$arg ;;
  esac
  prev=$arg
done
if [ -z "$depfile" ] || [ ! -f "$depfile" ]; then
  echo "error: $library: no dependency file (-MD -MF) for ${source:-this source}, so the build" \
       "cannot check that it compiles without Asio" >&2
  rm -f "$object"
  exit 1
fi
header=$(grep -m 1 -o '[^ ]*boost/asio[^ ]*' "$depfile" | head -n 1)
[ -z "$header" ] && exit 0

rm -f "$object"
echo "error: $library must compile without Asio (a pure layer), but $source includes $header" >&2
# g++ -H prints each header read, indented by depth: the lines above the first Asio header at
# each lower depth are the chain that brought it in.
# awk reads to the end, so that the compiler never writes to a closed pipe.
"$@" -fsyntax-only -H 2>&1 >/dev/null | awk '
  /^\.+ / && !shown {
    depth = index($0, " ") - 1
    line[depth] = $0
    if ($0 ~ /boost\/asio/) {
      for (d = 1; d <= depth; ++d) print "  " line[d]
      shown = 1
    }
  }
' >&2
echo "A pure layer names plain types only: for a bind's settings, smpp/net/session_options.hpp" \
     "and smpp/net/bind_config.hpp rather than session.hpp or bind_pool.hpp." >&2
exit 1
