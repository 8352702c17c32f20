# The Windows build (included by the top CMakeLists.txt when cross-compiling with
# cmake/mingw-w64-x86_64.cmake): zlayer.exe over the HCS backend and zlayer_windows_tests.exe.
# Debian has no mingw builds of libcurl, OpenSSL, libarchive, SQLite, yaml-cpp or Boost, so this
# build takes only portable sources plus src/runtime/windows/, and borrows the header-only
# libraries (nlohmann-json, tl::expected, fmt in header-only mode, CLI11) from the build host's
# /usr/include one directory at a time, never /usr/include itself (its glibc headers).
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()
option(ZLAYER_WERROR "Treat warnings as errors" OFF)
set(ZLAYER_WARNINGS -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(ZLAYER_WERROR)
  list(APPEND ZLAYER_WARNINGS -Werror)
endif()

set(ZLAYER_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${ZLAYER_HOST_HEADERS})
foreach(dir nlohmann tl fmt CLI)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "/usr/include/${dir} is missing: run scripts/setup-deps.sh")
  endif()
  file(CREATE_LINK /usr/include/${dir} ${ZLAYER_HOST_HEADERS}/${dir} SYMBOLIC)
endforeach()

set(W ${CMAKE_SOURCE_DIR}/src/runtime/windows)
file(GLOB ZLAYER_WIN_PORTABLE CONFIGURE_DEPENDS ${W}/portable/*.cpp)
file(GLOB ZLAYER_WIN_ONLY CONFIGURE_DEPENDS ${W}/*.cpp)
list(REMOVE_ITEM ZLAYER_WIN_ONLY ${W}/main.cpp)
add_library(zlayer_windows STATIC
  ${ZLAYER_WIN_PORTABLE} ${ZLAYER_WIN_ONLY}
  # the portable pieces of the rest of zlayer the backend uses
  ${CMAKE_SOURCE_DIR}/src/common/error.cpp ${CMAKE_SOURCE_DIR}/src/net/ipv4.cpp
  ${CMAKE_SOURCE_DIR}/src/spec/quantity.cpp ${CMAKE_SOURCE_DIR}/src/oci/signals.cpp)
target_include_directories(zlayer_windows PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_include_directories(zlayer_windows SYSTEM PUBLIC ${ZLAYER_HOST_HEADERS})
target_compile_definitions(zlayer_windows PUBLIC FMT_HEADER_ONLY WIN32_LEAN_AND_MEAN NOMINMAX
  _WIN32_WINNT=0x0A00 ZLAYER_VERSION="${PROJECT_VERSION}")
target_compile_options(zlayer_windows PRIVATE ${ZLAYER_WARNINGS})
# No import libraries: computecore/computenetwork/computestorage are loaded at run time (hcs_api.h).
target_link_libraries(zlayer_windows PUBLIC ole32)

add_executable(zlayer ${W}/main.cpp)
target_compile_options(zlayer PRIVATE ${ZLAYER_WARNINGS})
target_link_libraries(zlayer PRIVATE zlayer_windows)

# The unit tests: every portable test (tests/unit/runtime_windows, also in the Linux binary) and
# the Windows-only ones (tests/windows), on GoogleTest built from Debian's sources for this target.
set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
set(gtest_disable_pthreads OFF CACHE BOOL "" FORCE)
add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
file(GLOB ZLAYER_WIN_TESTS CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/tests/unit/runtime_windows/*.cpp ${CMAKE_SOURCE_DIR}/tests/windows/*.cpp)
add_executable(zlayer_windows_tests ${ZLAYER_WIN_TESTS})
target_compile_options(zlayer_windows_tests PRIVATE ${ZLAYER_WARNINGS})
target_link_libraries(zlayer_windows_tests PRIVATE zlayer_windows gtest gtest_main)
