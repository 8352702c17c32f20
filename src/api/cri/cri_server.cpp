#include "api/cri/cri_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <chrono>

#include "api/cri/cri_services.h"
#include "common/fs.h"

namespace zl::api {

namespace cri {

grpc::Status to_grpc(const Error& e) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (e.kind) {
    case ErrorKind::invalid_argument: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case ErrorKind::not_found: code = grpc::StatusCode::NOT_FOUND; break;
    case ErrorKind::already_exists: code = grpc::StatusCode::ALREADY_EXISTS; break;
    case ErrorKind::conflict: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case ErrorKind::unauthorized: code = grpc::StatusCode::UNAUTHENTICATED; break;
    case ErrorKind::permission_denied: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case ErrorKind::unavailable: code = grpc::StatusCode::UNAVAILABLE; break;
    case ErrorKind::unsupported: code = grpc::StatusCode::UNIMPLEMENTED; break;
    case ErrorKind::corrupt: code = grpc::StatusCode::DATA_LOSS; break;
    case ErrorKind::io:
    case ErrorKind::internal: break;
  }
  return grpc::Status(code, e.message);
}

}  // namespace cri

namespace {

struct GrpcCriServer final : CriServer {
  CriDeps deps;
  std::string socket_path;
  std::unique_ptr<cri::StreamServer> streams;
  std::unique_ptr<cri::RuntimeServiceImpl> runtime_service;
  cri::ImageServiceImpl image_service{deps};
  std::unique_ptr<grpc::Server> server;
  explicit GrpcCriServer(CriDeps d) : deps(std::move(d)) {}
  ~GrpcCriServer() override { shutdown(); }

  void shutdown() override {
    if (!server) return;
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    server->Wait();
    server.reset();
    streams->shutdown();
    ::unlink(socket_path.c_str());
  }
};

}  // namespace

Result<std::unique_ptr<CriServer>> start_cri_server(CriDeps deps, const std::string& socket_path) {
  auto impl = std::make_unique<GrpcCriServer>(std::move(deps));
  impl->socket_path = socket_path;
  ZL_TRY_ASSIGN(impl->streams, cri::StreamServer::start(impl->deps.runtime, impl->deps.stream_address));
  impl->runtime_service = std::make_unique<cri::RuntimeServiceImpl>(impl->deps, *impl->streams);
  ZL_TRY(make_dirs(fs::path(socket_path).parent_path(), 0711));
  if (::unlink(socket_path.c_str()) != 0 && errno != ENOENT)
    return errno_error(errno, "remove the old CRI socket " + socket_path);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(impl->runtime_service.get());
  builder.RegisterService(&impl->image_service);
  builder.SetMaxReceiveMessageSize(16 << 20);
  builder.SetMaxSendMessageSize(16 << 20);
  // The socket is created with the umask: keep it root's until chmod below.
  mode_t old_umask = ::umask(0117);
  impl->server = builder.BuildAndStart();
  ::umask(old_umask);
  if (!impl->server || !bound) return unavailable("CRI: cannot listen on {}", socket_path);
  if (::chmod(socket_path.c_str(), 0660) != 0) return errno_error(errno, "chmod " + socket_path);
  spdlog::info("CRI (runtime.v1) listening on {}", socket_path);
  return std::unique_ptr<CriServer>(std::move(impl));
}

}  // namespace zl::api
