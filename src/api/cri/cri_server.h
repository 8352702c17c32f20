// The Kubernetes Container Runtime Interface (runtime.v1 RuntimeService and ImageService) served
// over gRPC on a unix socket (`zlayer daemon --cri-socket PATH`), so a kubelet runs its pods on
// zlayer. Like the Docker API it only translates: pods and their containers are containers of the
// same Runtime and image store as everything else (`zlayer ps` shows them). gRPC runs its own
// threads beside the daemon's Asio loop. The server is built as a module, zlayer-cri.so, that the
// daemon loads when it is asked to serve CRI (cri.cmake says why).
#pragma once

#include <memory>
#include <string>

#include "image/registry_client.h"
#include "runtime/linux/linux_runtime.h"
#include "store/image_store.h"

namespace zl::api {

inline constexpr const char* kCriVersion = "0.1.0";  // the CRI version we report (the kubelet asks for it)
inline constexpr const char* kCriApiVersion = "v1";
inline constexpr const char* kDefaultPauseImage = "registry.k8s.io/pause:3.9";

struct CriDeps {
  LinuxRuntime& runtime;
  ImageStore& images;
  RegistryOptions registry;
  std::string root;         // the zlayer root: <root>/cri/pods/<sandbox id> holds a pod's files
  std::string pause_image;  // what a sandbox runs (pulled when missing)
  std::string stream_address = "127.0.0.1:0";  // the streaming server's (Exec, Attach) IP:PORT
};

// A running CRI server (its gRPC server and the streaming server for Exec/Attach).
class CriServer {
 public:
  virtual ~CriServer() = default;  // shuts down
  // Stops taking calls, waits (at most half a second) for those in flight, removes the socket.
  virtual void shutdown() = 0;
};

// Listens on `socket_path` (a stale socket file there is replaced; mode 0660, root's). In the
// module (cri_server.cpp).
Result<std::unique_ptr<CriServer>> start_cri_server(CriDeps deps, const std::string& socket_path);

// What the module gives its loader: checked to be of the same zlayer build.
struct CriModule {
  const char* version;  // ZLAYER_VERSION of the module
  Result<std::unique_ptr<CriServer>> (*start)(CriDeps deps, const std::string& socket_path);
};
inline constexpr const char* kCriModuleFile = "zlayer-cri.so";
inline constexpr const char* kCriModuleEntry = "zlayer_cri_module";  // extern "C" const CriModule* ()

// Loads zlayer-cri.so from beside the running zlayer binary (once) and starts the server with it.
// In zlayer_core (cri_module.cpp): what `zlayer daemon --cri-socket` calls.
Result<std::unique_ptr<CriServer>> load_cri_server(CriDeps deps, const std::string& socket_path);

}  // namespace zl::api
