# Common settings for ksparse's own targets (third-party targets keep their own flags).
function(ksparse_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  endif()
endfunction()

# ksparse_module(NAME core SOURCES a.cpp b.cpp DEPS ...): a library ksparse_<name> with public
# headers under include/ksparse/<name>.
function(ksparse_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(ksparse_${M_NAME} STATIC ${M_SOURCES})
  add_library(ksparse::${M_NAME} ALIAS ksparse_${M_NAME})
  target_include_directories(ksparse_${M_NAME}
    PUBLIC "${PROJECT_SOURCE_DIR}/include"
    PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_link_libraries(ksparse_${M_NAME} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  ksparse_target_defaults(ksparse_${M_NAME})
endfunction()
