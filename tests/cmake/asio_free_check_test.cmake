# cmake -DCHECK=.../asio_free_compile.sh -DCOMPILER=c++ -DSOURCE_DIR=... -DWORK_DIR=DIR
#       -P asio_free_check_test.cmake
#
# The launcher must let a source through that includes smpp/net/bind_config.hpp (what
# config/config.hpp includes), and fail one that reads an Asio header through a header of
# its own, naming the library, the source, the header and the include chain, and leaving no
# object behind.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/clean.cpp" "#include \"smpp/net/bind_config.hpp\"\n")
file(WRITE "${WORK_DIR}/io_options.hpp" "#include <boost/asio/steady_timer.hpp>\n")
file(WRITE "${WORK_DIR}/dirty.cpp" "#include \"io_options.hpp\"\n")

function(compile name)
  execute_process(COMMAND sh ${CHECK} otpd_made_up ${COMPILER} -std=c++20 -I${SOURCE_DIR}
                          -I${WORK_DIR} -DBOOST_ASIO_SEPARATE_COMPILATION -MD -MT ${name}.o
                          -MF ${WORK_DIR}/${name}.o.d -o ${WORK_DIR}/${name}.o
                          -c ${WORK_DIR}/${name}.cpp
                  RESULT_VARIABLE result ERROR_VARIABLE err)
  set(result "${result}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

compile(clean)
if(NOT result EQUAL 0 OR NOT EXISTS "${WORK_DIR}/clean.o")
  message(FATAL_ERROR "smpp/net/bind_config.hpp was refused (${result}):\n${err}")
endif()

compile(dirty)
if(result EQUAL 0)
  message(FATAL_ERROR "a source reading an Asio header compiled:\n${err}")
endif()
if(EXISTS "${WORK_DIR}/dirty.o")
  message(FATAL_ERROR "the refused source left its object behind")
endif()
foreach(expected "otpd_made_up must compile without Asio"
                 "${WORK_DIR}/dirty.cpp includes [^\n]*boost/asio/steady_timer.hpp"
                 "\n  \\. ${WORK_DIR}/io_options.hpp\n  \\.\\. [^\n]*boost/asio/steady_timer.hpp")
  if(NOT err MATCHES "${expected}")
    message(FATAL_ERROR "the error does not say '${expected}':\n${err}")
  endif()
endforeach()
