# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (g++-mingw-w64-x86-64-posix: the
# posix thread model, so std::thread and std::mutex work). Used by scripts/build-windows.sh.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(ZLAYER_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${ZLAYER_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${ZLAYER_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${ZLAYER_MINGW_TRIPLE}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${ZLAYER_MINGW_TRIPLE})
# Programs from the build host; headers and libraries only from the mingw sysroot (never
# /usr/include, whose glibc headers would be wrong here: see src/runtime/windows/windows.cmake
# for the header-only libraries the Windows build borrows one directory at a time).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# One self-contained .exe: no libstdc++-6.dll / libwinpthread-1.dll to ship beside it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
