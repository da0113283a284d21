# Pure layers compile without Asio: a library marked with otpd_asio_free() fails to build when
# one of its sources reads an Asio header, and the error names the source, the header and the
# includes between them. These are the layers the daemon's pure engine and the configuration
# are built from; an Asio include there costs each of their translation units some 400 headers.
#
# Measured on daemon/engine/rules.cpp and smpp/proto/codec.cpp with
#   g++ -H -fsyntax-only -std=c++20 -I. -DBOOST_ASIO_SEPARATE_COMPILATION \
#       -DBOOST_ASIO_NO_DEPRECATED -DBOOST_ASIO_NO_TS_EXECUTORS FILE 2>&1 | grep -c boost/asio
# (g++ 12, Boost 1.81). While config/config.hpp included smpp/net/bind_pool.hpp: rules.cpp 386
# (582 without the -D flags), codec.cpp 0. Since the option structs live in
# smpp/net/session_options.hpp and bind_config.hpp: rules.cpp 0, codec.cpp 0.
#
# The check is a compiler launcher (asio_free_compile.sh) that reads each object's dependency
# file as soon as it is written: Ninja deletes those files once it has read them, so a step
# after the compile would find none. The launcher set for the whole build (ccache) still runs.
set(OTPD_ASIO_FREE_COMPILE "${CMAKE_CURRENT_LIST_DIR}/asio_free_compile.sh")

function(otpd_asio_free target)
  get_target_property(launcher ${target} CXX_COMPILER_LAUNCHER)
  if(NOT launcher)
    set(launcher "")
  endif()
  set_property(TARGET ${target} PROPERTY CXX_COMPILER_LAUNCHER
                                         ${OTPD_ASIO_FREE_COMPILE} ${target} ${launcher})
endfunction()
