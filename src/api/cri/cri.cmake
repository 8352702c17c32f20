# The CRI gRPC services (src/api/cri): C++ generated from api.proto by protoc + grpc_cpp_plugin into
# the build dir, compiled into zlayer_core against Debian's gRPC and protobuf. Included before
# zlayer_core is made (appends sources); zlayer_cri_link() after (include dir, libraries).
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
list(APPEND ZLAYER_LIB_SOURCES ${ZLAYER_CRI_GEN_SOURCES})

function(zlayer_cri_link target)
  # SYSTEM: the generated headers' warnings stay out of -Werror in our files too.
  target_include_directories(${target} SYSTEM PUBLIC ${ZLAYER_CRI_GEN_DIR})
  target_link_libraries(${target} PUBLIC PkgConfig::GRPCPP)
endfunction()
