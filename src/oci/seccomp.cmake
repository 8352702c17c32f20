# Embeds docker's default seccomp profile (from Debian's golang-github-docker-docker-dev) into
# zlayer at build time, so running zlayer does not need that package.
set(ZLAYER_DOCKER_SECCOMP_PROFILE
    /usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json
    CACHE FILEPATH "docker's default seccomp profile (JSON) to embed")
if(NOT EXISTS ${ZLAYER_DOCKER_SECCOMP_PROFILE})
  message(FATAL_ERROR "${ZLAYER_DOCKER_SECCOMP_PROFILE} is missing: "
                      "apt-get install --no-install-recommends golang-github-docker-docker-dev")
endif()
file(READ ${ZLAYER_DOCKER_SECCOMP_PROFILE} ZLAYER_DOCKER_SECCOMP_JSON)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ZLAYER_DOCKER_SECCOMP_PROFILE})
configure_file(${CMAKE_CURRENT_LIST_DIR}/default_seccomp.cpp.in
               ${CMAKE_BINARY_DIR}/generated/oci/default_seccomp.cpp @ONLY)
list(APPEND ZLAYER_LIB_SOURCES ${CMAKE_BINARY_DIR}/generated/oci/default_seccomp.cpp)
