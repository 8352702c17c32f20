// Inside the CRI server: the two gRPC services and the helpers they share. Each method turns a
// request into calls on the Runtime / image store and an Error into a gRPC status.
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/cri/cri_meta.h"
#include "api/cri/cri_server.h"
#include "api/cri/stream_server.h"
#include "cri/api.grpc.pb.h"

namespace zl::api::cri {

namespace v1 = ::runtime::v1;
using zl::cri::ContainerMeta;
using zl::cri::SandboxMeta;

// An image as CRI names it: a reference ("docker.io/library/busybox:1.36", "busybox"), an image
// id ("sha256:<hex>", as PullImage answers, or the hex) or a repo digest ("name@sha256:...").
Result<ImageRecord> resolve_image(const ImageStore& images, const std::string& name);

// The gRPC code of an Error's kind, with its message.
grpc::Status to_grpc(const Error& e);
inline grpc::Status to_grpc(const Status& st) { return st ? grpc::Status::OK : to_grpc(st.error()); }

// A CRI ContainerConfig as a zlayer ContainerSpec in its sandbox (network, hostname and resolv.conf
// of the pod; `pod_dir` holds the pod's files).
Result<ContainerSpec> container_spec(const v1::ContainerConfig& cfg, const ContainerInfo& sandbox,
                                     const SandboxMeta& pod, const fs::path& pod_dir);
// The sandbox's own container: `pause_image` in a network namespace of its own (or the host's);
// the pod's files are in <pods_dir>/<its name>.
Result<ContainerSpec> sandbox_spec(const v1::PodSandboxConfig& cfg, const std::string& pause_image,
                                   const fs::path& pods_dir);
Resources resources_of(const v1::LinuxContainerResources& r);
// `<oci runtime> update` of a running container's cgroup (the container's record keeps its
// creation-time resources).
Status update_resources(LinuxRuntime& rt, const std::string& root, const std::string& id, const Resources& r);
// Has the container's conmon reopen its log file (after the kubelet rotated it).
Status reopen_log(LinuxRuntime& rt, const std::string& id);

class RuntimeServiceImpl final : public v1::RuntimeService::Service {
 public:
  RuntimeServiceImpl(CriDeps& deps, StreamServer& streams) : d_(deps), streams_(streams) {}

  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest*, v1::VersionResponse*) override;
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusResponse*) override;
  grpc::Status RuntimeConfig(grpc::ServerContext*, const v1::RuntimeConfigRequest*,
                             v1::RuntimeConfigResponse*) override;
  grpc::Status UpdateRuntimeConfig(grpc::ServerContext*, const v1::UpdateRuntimeConfigRequest*,
                                   v1::UpdateRuntimeConfigResponse*) override;

  grpc::Status RunPodSandbox(grpc::ServerContext*, const v1::RunPodSandboxRequest*,
                             v1::RunPodSandboxResponse*) override;
  grpc::Status StopPodSandbox(grpc::ServerContext*, const v1::StopPodSandboxRequest*,
                              v1::StopPodSandboxResponse*) override;
  grpc::Status RemovePodSandbox(grpc::ServerContext*, const v1::RemovePodSandboxRequest*,
                                v1::RemovePodSandboxResponse*) override;
  grpc::Status PodSandboxStatus(grpc::ServerContext*, const v1::PodSandboxStatusRequest*,
                                v1::PodSandboxStatusResponse*) override;
  grpc::Status ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest*,
                              v1::ListPodSandboxResponse*) override;
  grpc::Status PodSandboxStats(grpc::ServerContext*, const v1::PodSandboxStatsRequest*,
                               v1::PodSandboxStatsResponse*) override;
  grpc::Status ListPodSandboxStats(grpc::ServerContext*, const v1::ListPodSandboxStatsRequest*,
                                   v1::ListPodSandboxStatsResponse*) override;

  grpc::Status CreateContainer(grpc::ServerContext*, const v1::CreateContainerRequest*,
                               v1::CreateContainerResponse*) override;
  grpc::Status StartContainer(grpc::ServerContext*, const v1::StartContainerRequest*,
                              v1::StartContainerResponse*) override;
  grpc::Status StopContainer(grpc::ServerContext*, const v1::StopContainerRequest*,
                             v1::StopContainerResponse*) override;
  grpc::Status RemoveContainer(grpc::ServerContext*, const v1::RemoveContainerRequest*,
                               v1::RemoveContainerResponse*) override;
  grpc::Status ListContainers(grpc::ServerContext*, const v1::ListContainersRequest*,
                              v1::ListContainersResponse*) override;
  grpc::Status ContainerStatus(grpc::ServerContext*, const v1::ContainerStatusRequest*,
                               v1::ContainerStatusResponse*) override;
  grpc::Status UpdateContainerResources(grpc::ServerContext*, const v1::UpdateContainerResourcesRequest*,
                                        v1::UpdateContainerResourcesResponse*) override;
  grpc::Status ReopenContainerLog(grpc::ServerContext*, const v1::ReopenContainerLogRequest*,
                                  v1::ReopenContainerLogResponse*) override;
  grpc::Status ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest*, v1::ExecSyncResponse*) override;
  grpc::Status Exec(grpc::ServerContext*, const v1::ExecRequest*, v1::ExecResponse*) override;
  grpc::Status Attach(grpc::ServerContext*, const v1::AttachRequest*, v1::AttachResponse*) override;
  grpc::Status ContainerStats(grpc::ServerContext*, const v1::ContainerStatsRequest*,
                              v1::ContainerStatsResponse*) override;
  grpc::Status ListContainerStats(grpc::ServerContext*, const v1::ListContainerStatsRequest*,
                                  v1::ListContainerStatsResponse*) override;

 private:
  // The sandbox container named by a (full or prefix) sandbox id, with its metadata.
  struct Pod {
    ContainerInfo info;
    SandboxMeta meta;
  };
  Result<Pod> pod(const std::string& id);
  Result<std::vector<Pod>> pods();
  // A CRI container by (full or prefix) id, with its metadata.
  struct Ctr {
    ContainerInfo info;
    ContainerMeta meta;
  };
  Result<Ctr> ctr(const std::string& id);
  Result<std::vector<Ctr>> ctrs();
  // <root>/cri/pods/<sandbox name>: the pod's resolv.conf.
  fs::path pod_dir(const SandboxMeta& pod) const;
  void fill_status(const Ctr& c, v1::ContainerStatus* out);
  Result<v1::ContainerStats> stats_of(const Ctr& c);
  Result<v1::PodSandboxStats> pod_stats(const Pod& p);

  CriDeps& d_;
  StreamServer& streams_;
};

class ImageServiceImpl final : public v1::ImageService::Service {
 public:
  explicit ImageServiceImpl(CriDeps& deps) : d_(deps) {}

  grpc::Status ListImages(grpc::ServerContext*, const v1::ListImagesRequest*, v1::ListImagesResponse*) override;
  grpc::Status ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest*, v1::ImageStatusResponse*) override;
  grpc::Status PullImage(grpc::ServerContext*, const v1::PullImageRequest*, v1::PullImageResponse*) override;
  grpc::Status RemoveImage(grpc::ServerContext*, const v1::RemoveImageRequest*, v1::RemoveImageResponse*) override;
  grpc::Status ImageFsInfo(grpc::ServerContext*, const v1::ImageFsInfoRequest*, v1::ImageFsInfoResponse*) override;

 private:
  CriDeps& d_;
};

}  // namespace zl::api::cri
