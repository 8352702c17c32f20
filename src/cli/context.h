// What every CLI command shares: global options (root dir, registries, debug) and the store
// opened lazily from them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/daemon_client.h"
#include "image/registry_client.h"
#include "runtime/linux/linux_runtime.h"
#include "store/image_store.h"

namespace zl::cli {

struct Context {
  std::string root = "/var/lib/zlayer";
  std::vector<std::string> insecure_registries;
  std::string auth_config;  // empty: docker's default config.json location
  std::string oci_runtime = "auto";  // --runtime: auto | runc | crun | PATH
  net::NetConfig net;                // --cluster-cidr, --node-subnet, --bridge-prefix
  bool debug = false;
  DaemonEndpointOptions daemon;  // --host, --tls-cert, --tls-key, --tls-ca: how to reach the daemon

  // The image store under root, created and initialised on first use.
  Result<ImageStore*> store();
  // The container runtime over that store, created on first use.
  Result<LinuxRuntime*> runtime();
  RegistryOptions registry_options() const;
  // A user's image name as the store knows it: the normalized reference when it parses and
  // is present, otherwise the text as typed (an image id or digest).
  std::string store_name(ImageStore& store, const std::string& typed) const;

 private:
  std::unique_ptr<ImageStore> store_;
  std::unique_ptr<LinuxRuntime> runtime_;
};

}  // namespace zl::cli
