# The CRI gRPC server (src/api/cri) is a module, zlayer-cri.so beside the zlayer binary, that
# `zlayer daemon --cri-socket` loads (cri_module.cpp): gRPC, protobuf and abseil are ~45 shared
# libraries whose loading and static initializers cost ~13 ms of CPU, which every other zlayer
# command (run, ps, exec, ...) would pay too. The module's code calls into the zlayer binary's
# own (exported) symbols; it is never linked with zlayer_core, so there is one copy of each.
# Included after zlayer_core and the zlayer executable are defined.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++ protobuf)
find_program(ZLAYER_PROTOC protoc REQUIRED)
find_program(ZLAYER_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
set(ZLAYER_CRI_PROTO ${CMAKE_CURRENT_LIST_DIR}/api.proto)
set(ZLAYER_CRI_GEN_DIR ${CMAKE_BINARY_DIR}/generated/cri)
set(ZLAYER_CRI_GEN_SOURCES ${ZLAYER_CRI_GEN_DIR}/cri/api.pb.cc ${ZLAYER_CRI_GEN_DIR}/cri/api.grpc.pb.cc)
add_custom_command(
  OUTPUT ${ZLAYER_CRI_GEN_SOURCES} ${ZLAYER_CRI_GEN_DIR}/cri/api.pb.h ${ZLAYER_CRI_GEN_DIR}/cri/api.grpc.pb.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${ZLAYER_CRI_GEN_DIR}/cri
  COMMAND ${ZLAYER_PROTOC} -I ${CMAKE_SOURCE_DIR}/src/api --cpp_out=${ZLAYER_CRI_GEN_DIR}
          --grpc_out=${ZLAYER_CRI_GEN_DIR} --plugin=protoc-gen-grpc=${ZLAYER_GRPC_CPP_PLUGIN} ${ZLAYER_CRI_PROTO}
  DEPENDS ${ZLAYER_CRI_PROTO}
  COMMENT "protoc: CRI runtime.v1 (src/api/cri/api.proto)"
  VERBATIM)
# Generated code is not ours to keep warning-free.
set_source_files_properties(${ZLAYER_CRI_GEN_SOURCES} PROPERTIES COMPILE_OPTIONS "-w")

# The generated messages and stubs (the e2e tests' CRI client uses them too).
add_library(zlayer_cri_proto STATIC ${ZLAYER_CRI_GEN_SOURCES})
set_target_properties(zlayer_cri_proto PROPERTIES POSITION_INDEPENDENT_CODE ON)
# SYSTEM: the generated headers' warnings stay out of -Werror in our files too.
target_include_directories(zlayer_cri_proto SYSTEM PUBLIC ${ZLAYER_CRI_GEN_DIR})
target_link_libraries(zlayer_cri_proto PUBLIC PkgConfig::GRPCPP)

# The server's code, compiled against zlayer_core's headers but not linked with it.
file(GLOB ZLAYER_CRI_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
# Not here: the loader (in zlayer_core) and the module's entry point (the module's own source).
list(FILTER ZLAYER_CRI_SOURCES EXCLUDE REGEX "/cri_(module|entry)\\.cpp$")
add_library(zlayer_cri STATIC ${ZLAYER_CRI_SOURCES})
set_target_properties(zlayer_cri PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(zlayer_cri PUBLIC $<TARGET_PROPERTY:zlayer_core,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_definitions(zlayer_cri PUBLIC $<TARGET_PROPERTY:zlayer_core,INTERFACE_COMPILE_DEFINITIONS>)
target_link_libraries(zlayer_cri PUBLIC zlayer_cri_proto nlohmann_json::nlohmann_json spdlog::spdlog fmt::fmt
  Boost::headers OpenSSL::Crypto)

add_library(zlayer-cri MODULE ${CMAKE_CURRENT_LIST_DIR}/cri_entry.cpp)
set_target_properties(zlayer-cri PROPERTIES PREFIX "")
target_link_libraries(zlayer-cri PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,zlayer_cri>")
add_dependencies(zlayer zlayer-cri)
# The module resolves zlayer_core's symbols against the binary: all of zlayer_core is linked in
# and exported.
set_target_properties(zlayer PROPERTIES ENABLE_EXPORTS ON)
