# Embeds the REST API's OpenAPI document (src/api/openapi.json) so the daemon serves it.
set(ZLAYER_OPENAPI_FILE ${CMAKE_CURRENT_LIST_DIR}/openapi.json)
file(READ ${ZLAYER_OPENAPI_FILE} ZLAYER_OPENAPI_JSON)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ZLAYER_OPENAPI_FILE})
configure_file(${CMAKE_CURRENT_LIST_DIR}/openapi_document.cpp.in
               ${CMAKE_BINARY_DIR}/generated/api/openapi_document.cpp @ONLY)
list(APPEND ZLAYER_LIB_SOURCES ${CMAKE_BINARY_DIR}/generated/api/openapi_document.cpp)
