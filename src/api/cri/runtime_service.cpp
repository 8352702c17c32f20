// CRI RuntimeService: pods (sandbox containers) and their containers over LinuxRuntime.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <chrono>

#include "api/cri/cri_services.h"
#include "common/fs.h"
#include "image/puller.h"
#include "image/reference.h"

namespace zl::api::cri {

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool running(const ContainerInfo& c) {
  return c.status == zl::ContainerStatus::running || c.status == zl::ContainerStatus::paused;
}

v1::ContainerState state_of(const ContainerInfo& c) {
  switch (c.status) {
    case zl::ContainerStatus::created: return v1::CONTAINER_CREATED;
    case zl::ContainerStatus::running:
    case zl::ContainerStatus::paused: return v1::CONTAINER_RUNNING;
    case zl::ContainerStatus::exited: return v1::CONTAINER_EXITED;
    default: return v1::CONTAINER_UNKNOWN;
  }
}

template <class Map>
void put(Map* out, const zl::cri::StringMap& in) {
  out->insert(in.begin(), in.end());
}

void fill_pod_meta(const SandboxMeta& m, v1::PodSandboxMetadata* out) {
  out->set_name(m.name);
  out->set_uid(m.uid);
  out->set_namespace_(m.ns);
  out->set_attempt(m.attempt);
}

// An id as CRI clients give it: a full id or a unique prefix. The same matching for pods and
// containers, among `candidates`.
template <class T>
Result<T> find_by_id(std::vector<T> candidates, const std::string& id, const char* what) {
  if (id.empty()) return invalid_argument("{} id is empty", what);
  std::optional<T> found;
  for (auto& c : candidates) {
    if (!c.info.id.starts_with(id)) continue;
    if (found) return invalid_argument("{} id {} is ambiguous", what, id);
    found = std::move(c);
  }
  if (!found) return not_found("no such {}: {}", what, id);
  return std::move(*found);
}

// Our symlink from the kubelet's log path to the container's log (conmon writes the CRI format
// there already); replaces what was at the path.
Status link_log(const std::string& log_path, const fs::path& target) {
  if (log_path.empty()) return {};
  fs::path p(log_path);
  ZL_TRY(make_dirs(p.parent_path(), 0755));
  std::error_code ec;
  fs::remove(p, ec);
  if (::symlink(target.c_str(), p.c_str()) != 0) return errno_error(errno, "link the log at " + log_path);
  return {};
}

}  // namespace

fs::path RuntimeServiceImpl::pod_dir(const SandboxMeta& pod) const {
  return fs::path(d_.root) / "cri" / "pods" / zl::cri::sandbox_name(pod);
}

Result<std::vector<RuntimeServiceImpl::Pod>> RuntimeServiceImpl::pods() {
  ZL_TRY_ASSIGN(auto all, d_.runtime.list_containers());
  std::vector<Pod> out;
  for (auto& c : all) {
    if (!zl::cri::is_sandbox(c)) continue;
    auto meta = zl::cri::decode_sandbox(zl::cri::label(c, zl::cri::kMetaLabel));
    if (!meta) {
      spdlog::warn("CRI sandbox {}: {}", c.id.substr(0, 12), meta.error().message);
      continue;
    }
    out.push_back(Pod{std::move(c), std::move(*meta)});
  }
  return out;
}

Result<RuntimeServiceImpl::Pod> RuntimeServiceImpl::pod(const std::string& id) {
  ZL_TRY_ASSIGN(auto all, pods());
  return find_by_id(std::move(all), id, "pod sandbox");
}

Result<std::vector<RuntimeServiceImpl::Ctr>> RuntimeServiceImpl::ctrs() {
  ZL_TRY_ASSIGN(auto all, d_.runtime.list_containers());
  std::vector<Ctr> out;
  for (auto& c : all) {
    if (!zl::cri::is_cri_container(c)) continue;
    auto meta = zl::cri::decode_container(zl::cri::label(c, zl::cri::kMetaLabel));
    if (!meta) {
      spdlog::warn("CRI container {}: {}", c.id.substr(0, 12), meta.error().message);
      continue;
    }
    out.push_back(Ctr{std::move(c), std::move(*meta)});
  }
  return out;
}

Result<RuntimeServiceImpl::Ctr> RuntimeServiceImpl::ctr(const std::string& id) {
  ZL_TRY_ASSIGN(auto all, ctrs());
  return find_by_id(std::move(all), id, "container");
}

// ---- runtime ----

grpc::Status RuntimeServiceImpl::Version(grpc::ServerContext*, const v1::VersionRequest*, v1::VersionResponse* out) {
  out->set_version(kCriVersion);
  out->set_runtime_name("zlayer");
  out->set_runtime_version(ZLAYER_VERSION);
  out->set_runtime_api_version(kCriApiVersion);
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusResponse* out) {
  auto* rt = out->mutable_status()->add_conditions();
  rt->set_type("RuntimeReady");
  auto oci = d_.runtime.oci_runtime();
  rt->set_status(oci.has_value());
  if (!oci) {
    rt->set_reason("OCIRuntimeUnavailable");
    rt->set_message(oci.error().message);
  }
  auto* net = out->mutable_status()->add_conditions();
  net->set_type("NetworkReady");
  auto nm = d_.runtime.network();
  net->set_status(nm.has_value());
  if (!nm) {
    net->set_reason("NetworkUnavailable");
    net->set_message(nm.error().message);
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::RuntimeConfig(grpc::ServerContext*, const v1::RuntimeConfigRequest*,
                                               v1::RuntimeConfigResponse* out) {
  out->mutable_linux()->set_cgroup_driver(v1::CGROUPFS);  // runc/crun with cgroupfs paths (/zlayer/<id>)
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::UpdateRuntimeConfig(grpc::ServerContext*, const v1::UpdateRuntimeConfigRequest* req,
                                                     v1::UpdateRuntimeConfigResponse*) {
  // The pod CIDR is the node's slice of the cluster range, which zlayer's IPAM has already.
  if (!req->runtime_config().network_config().pod_cidr().empty())
    spdlog::info("CRI: pod CIDR {} (zlayer allocates from its own node slice)",
                 req->runtime_config().network_config().pod_cidr());
  return grpc::Status::OK;
}

// ---- sandboxes ----

grpc::Status RuntimeServiceImpl::RunPodSandbox(grpc::ServerContext*, const v1::RunPodSandboxRequest* req,
                                               v1::RunPodSandboxResponse* out) {
  const auto& cfg = req->config();
  if (!req->runtime_handler().empty() && req->runtime_handler() != "runc" && req->runtime_handler() != "zlayer")
    return to_grpc(Error{ErrorKind::invalid_argument, "unknown runtime handler " + req->runtime_handler()});
  // The pause image, pulled once.
  auto ref = Reference::parse(d_.pause_image);
  if (!ref) return to_grpc(ref.error().wrap("pause image"));
  Puller puller(d_.images, d_.registry);
  if (auto rec = puller.pull(*ref, PullOptions{.policy = PullPolicy::if_not_present}); !rec)
    return to_grpc(rec.error().wrap("RunPodSandbox"));

  fs::path pods = fs::path(d_.root) / "cri" / "pods";
  auto spec = sandbox_spec(cfg, ref->str(), pods);
  if (!spec) return to_grpc(spec.error());
  if (auto meta = zl::cri::decode_sandbox(spec->labels[zl::cri::kMetaLabel])) {  // reported back as asked
    meta->runtime_handler = req->runtime_handler();
    spec->labels[zl::cri::kMetaLabel] = zl::cri::encode(*meta);
  }
  // The pod's files (<pods>/<sandbox name>): written aside, then put in place when the name is
  // free (what a crash left of an older pod of that name goes first).
  fs::path dir = pods / spec->name;
  auto taken = d_.runtime.inspect_container(spec->name);
  if (taken) return to_grpc(Error{ErrorKind::already_exists, "RunPodSandbox: sandbox " + spec->name + " exists"});
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (auto st = make_dirs(pods, 0700); !st) return to_grpc(st);
  auto tmp = TempDir::create(pods, ".new-");
  if (!tmp) return to_grpc(tmp.error());
  if (cfg.has_dns_config()) {
    const auto& dns = cfg.dns_config();
    auto st = write_file_atomic(tmp->path() / "resolv.conf",
                                zl::cri::resolv_conf({dns.servers().begin(), dns.servers().end()},
                                                     {dns.searches().begin(), dns.searches().end()},
                                                     {dns.options().begin(), dns.options().end()}),
                                0644);
    if (!st) return to_grpc(st);
  }
  if (auto st = tmp->commit_as(dir); !st) return to_grpc(st.error().wrap("RunPodSandbox"));
  auto fail = [&](const Error& e) {
    fs::remove_all(dir, ec);
    return to_grpc(e.wrap("RunPodSandbox " + cfg.metadata().name()));
  };
  auto c = d_.runtime.create_container(*spec);
  if (!c) return fail(c.error());
  if (auto st = d_.runtime.start_container(c->id); !st) {
    (void)d_.runtime.remove_container(c->id, true);
    return fail(st.error());
  }
  spdlog::info("CRI: pod {}/{} runs in sandbox {}", cfg.metadata().namespace_(), cfg.metadata().name(),
               c->id.substr(0, 12));
  out->set_pod_sandbox_id(c->id);
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::StopPodSandbox(grpc::ServerContext*, const v1::StopPodSandboxRequest* req,
                                                v1::StopPodSandboxResponse*) {
  auto p = pod(req->pod_sandbox_id());
  if (!p) return p.error().kind == ErrorKind::not_found ? grpc::Status::OK : to_grpc(p.error());
  auto cs = ctrs();
  if (!cs) return to_grpc(cs.error());
  // The kubelet has stopped them with their grace periods already: what still runs is killed
  // (as containerd does). One that exits meanwhile is not an error.
  auto stop = [&](const ContainerInfo& c) -> zl::Status {
    if (!running(c)) return {};
    auto st = d_.runtime.stop_container(c.id, std::chrono::seconds(0));
    if (!st && st.error().kind != ErrorKind::not_found && st.error().kind != ErrorKind::conflict)
      return tl::unexpected(st.error().wrap("StopPodSandbox"));
    return {};
  };
  for (const auto& c : *cs)
    if (zl::cri::label(c.info, zl::cri::kSandboxLabel) == p->info.id)
      if (auto st = stop(c.info); !st) return to_grpc(st);
  return to_grpc(stop(p->info));
}

grpc::Status RuntimeServiceImpl::RemovePodSandbox(grpc::ServerContext*, const v1::RemovePodSandboxRequest* req,
                                                  v1::RemovePodSandboxResponse*) {
  auto p = pod(req->pod_sandbox_id());
  if (!p) return p.error().kind == ErrorKind::not_found ? grpc::Status::OK : to_grpc(p.error());
  auto cs = ctrs();
  if (!cs) return to_grpc(cs.error());
  for (const auto& c : *cs) {
    if (zl::cri::label(c.info, zl::cri::kSandboxLabel) != p->info.id) continue;
    if (auto st = d_.runtime.remove_container(c.info.id, true); !st && st.error().kind != ErrorKind::not_found)
      return to_grpc(st.error().wrap("RemovePodSandbox"));
    if (!c.meta.log_path.empty() && fs::is_symlink(c.meta.log_path)) ::unlink(c.meta.log_path.c_str());
  }
  if (auto st = d_.runtime.remove_container(p->info.id, true); !st && st.error().kind != ErrorKind::not_found)
    return to_grpc(st.error().wrap("RemovePodSandbox"));
  std::error_code ec;
  fs::remove_all(pod_dir(p->meta), ec);
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::PodSandboxStatus(grpc::ServerContext*, const v1::PodSandboxStatusRequest* req,
                                                  v1::PodSandboxStatusResponse* out) {
  auto p = pod(req->pod_sandbox_id());
  if (!p) return to_grpc(p.error());
  auto* s = out->mutable_status();
  s->set_id(p->info.id);
  fill_pod_meta(p->meta, s->mutable_metadata());
  s->set_state(running(p->info) ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
  s->set_created_at(p->info.created_at);
  if (running(p->info) && !p->meta.host_network)
    if (auto ip = d_.runtime.container_ip(p->info.id)) s->mutable_network()->set_ip(*ip);
  auto* ns = s->mutable_linux()->mutable_namespaces()->mutable_options();
  ns->set_network(p->meta.host_network ? v1::NODE : v1::POD);
  ns->set_pid(p->meta.shared_pid ? v1::POD : v1::CONTAINER);
  ns->set_ipc(v1::POD);
  put(s->mutable_labels(), p->meta.labels);
  put(s->mutable_annotations(), p->meta.annotations);
  s->set_runtime_handler(p->meta.runtime_handler);
  out->set_timestamp(now_ns());
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest* req,
                                                v1::ListPodSandboxResponse* out) {
  auto all = pods();
  if (!all) return to_grpc(all.error());
  const auto& f = req->filter();
  zl::cri::StringMap selector(f.label_selector().begin(), f.label_selector().end());
  for (const auto& p : *all) {
    auto state = running(p.info) ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY;
    if (!f.id().empty() && !p.info.id.starts_with(f.id())) continue;
    if (f.has_state() && f.state().state() != state) continue;
    if (!zl::cri::labels_match(p.meta.labels, selector)) continue;
    auto* item = out->add_items();
    item->set_id(p.info.id);
    fill_pod_meta(p.meta, item->mutable_metadata());
    item->set_state(state);
    item->set_created_at(p.info.created_at);
    put(item->mutable_labels(), p.meta.labels);
    put(item->mutable_annotations(), p.meta.annotations);
    item->set_runtime_handler(p.meta.runtime_handler);
  }
  return grpc::Status::OK;
}

// ---- containers ----

grpc::Status RuntimeServiceImpl::CreateContainer(grpc::ServerContext*, const v1::CreateContainerRequest* req,
                                                 v1::CreateContainerResponse* out) {
  auto p = pod(req->pod_sandbox_id());
  if (!p) return to_grpc(p.error().wrap("CreateContainer"));
  if (!running(p->info))
    return to_grpc(Error{ErrorKind::conflict, "CreateContainer: pod sandbox " + p->info.id.substr(0, 12) + " is not ready"});
  auto spec = container_spec(req->config(), p->info, p->meta, pod_dir(p->meta));
  if (!spec) return to_grpc(spec.error());
  // The kubelet names the image by what PullImage answered (its id): the store's reference.
  auto image = resolve_image(d_.images, req->config().image().image());
  if (!image) return to_grpc(image.error().wrap("CreateContainer " + req->config().metadata().name()));
  spec->image = image->reference;
  auto c = d_.runtime.create_container(*spec);
  if (!c) return to_grpc(c.error().wrap("CreateContainer " + req->config().metadata().name()));
  auto meta = zl::cri::decode_container(spec->labels[zl::cri::kMetaLabel]);
  if (meta && !meta->log_path.empty())
    if (auto st = link_log(meta->log_path, d_.runtime.containers().paths(c->id).log()); !st) {
      (void)d_.runtime.remove_container(c->id, true);
      return to_grpc(st.error().wrap("CreateContainer"));
    }
  out->set_container_id(c->id);
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::StartContainer(grpc::ServerContext*, const v1::StartContainerRequest* req,
                                                v1::StartContainerResponse*) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  return to_grpc(d_.runtime.start_container(c->info.id));
}

grpc::Status RuntimeServiceImpl::StopContainer(grpc::ServerContext*, const v1::StopContainerRequest* req,
                                               v1::StopContainerResponse*) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  if (!running(c->info)) return grpc::Status::OK;
  auto st = d_.runtime.stop_container(c->info.id, std::chrono::seconds(std::max<int64_t>(req->timeout(), 0)));
  if (!st && st.error().kind == ErrorKind::conflict) return grpc::Status::OK;  // exited meanwhile
  return to_grpc(st);
}

grpc::Status RuntimeServiceImpl::RemoveContainer(grpc::ServerContext*, const v1::RemoveContainerRequest* req,
                                                 v1::RemoveContainerResponse*) {
  auto c = ctr(req->container_id());
  if (!c) return c.error().kind == ErrorKind::not_found ? grpc::Status::OK : to_grpc(c.error());
  if (auto st = d_.runtime.remove_container(c->info.id, true); !st && st.error().kind != ErrorKind::not_found)
    return to_grpc(st);
  if (!c->meta.log_path.empty() && fs::is_symlink(c->meta.log_path)) ::unlink(c->meta.log_path.c_str());
  return grpc::Status::OK;
}

void RuntimeServiceImpl::fill_status(const Ctr& c, v1::ContainerStatus* s) {
  s->set_id(c.info.id);
  s->mutable_metadata()->set_name(c.meta.name);
  s->mutable_metadata()->set_attempt(c.meta.attempt);
  s->set_state(state_of(c.info));
  s->set_created_at(c.info.created_at);
  s->set_started_at(c.info.started_at);
  s->set_finished_at(c.info.finished_at);
  if (c.info.exit) {
    s->set_exit_code(c.info.exit->exit_code);
    s->set_reason(zl::cri::exit_reason(*c.info.exit));
    s->set_message(c.info.exit->message);
    if (s->finished_at() == 0) s->set_finished_at(c.info.exit->finished_at_unix_nano);
  }
  s->mutable_image()->set_image(c.meta.image);
  s->set_image_ref(c.info.image_id);
  s->set_image_id(c.info.image_id);
  put(s->mutable_labels(), c.meta.labels);
  put(s->mutable_annotations(), c.meta.annotations);
  for (const auto& m : c.info.spec.mounts) {
    if (m.target == "/etc/resolv.conf") continue;  // ours, not the kubelet's
    auto* mo = s->add_mounts();
    mo->set_container_path(m.target);
    mo->set_host_path(m.source);
    mo->set_readonly(m.read_only);
    for (const auto& o : m.options) {
      if (o == "rslave") mo->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
      if (o == "rshared") mo->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
    }
  }
  s->set_log_path(c.meta.log_path);
  auto* r = s->mutable_resources()->mutable_linux();
  const auto& res = c.info.spec.resources;
  if (res.cpus) {
    r->set_cpu_period(100000);
    r->set_cpu_quota(static_cast<int64_t>(*res.cpus * 100000));
  }
  if (res.cpu_shares) r->set_cpu_shares(static_cast<int64_t>(*res.cpu_shares));
  if (res.memory) r->set_memory_limit_in_bytes(*res.memory);
  if (res.cpuset_cpus) r->set_cpuset_cpus(*res.cpuset_cpus);
}

grpc::Status RuntimeServiceImpl::ContainerStatus(grpc::ServerContext*, const v1::ContainerStatusRequest* req,
                                                 v1::ContainerStatusResponse* out) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  fill_status(*c, out->mutable_status());
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::ListContainers(grpc::ServerContext*, const v1::ListContainersRequest* req,
                                                v1::ListContainersResponse* out) {
  auto all = ctrs();
  if (!all) return to_grpc(all.error());
  const auto& f = req->filter();
  zl::cri::StringMap selector(f.label_selector().begin(), f.label_selector().end());
  for (const auto& c : *all) {
    std::string sandbox = zl::cri::label(c.info, zl::cri::kSandboxLabel);
    if (!f.id().empty() && !c.info.id.starts_with(f.id())) continue;
    if (f.has_state() && f.state().state() != state_of(c.info)) continue;
    if (!f.pod_sandbox_id().empty() && !sandbox.starts_with(f.pod_sandbox_id())) continue;
    if (!zl::cri::labels_match(c.meta.labels, selector)) continue;
    auto* item = out->add_containers();
    item->set_id(c.info.id);
    item->set_pod_sandbox_id(sandbox);
    item->mutable_metadata()->set_name(c.meta.name);
    item->mutable_metadata()->set_attempt(c.meta.attempt);
    item->mutable_image()->set_image(c.meta.image);
    item->set_image_ref(c.info.image_id);
    item->set_image_id(c.info.image_id);
    item->set_state(state_of(c.info));
    item->set_created_at(c.info.created_at);
    put(item->mutable_labels(), c.meta.labels);
    put(item->mutable_annotations(), c.meta.annotations);
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::UpdateContainerResources(grpc::ServerContext*,
                                                          const v1::UpdateContainerResourcesRequest* req,
                                                          v1::UpdateContainerResourcesResponse*) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  if (!req->has_linux()) return grpc::Status::OK;
  return to_grpc(update_resources(d_.runtime, d_.root, c->info.id, resources_of(req->linux())));
}

grpc::Status RuntimeServiceImpl::ReopenContainerLog(grpc::ServerContext*, const v1::ReopenContainerLogRequest* req,
                                                    v1::ReopenContainerLogResponse*) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  if (c->info.status != zl::ContainerStatus::running)
    return to_grpc(Error{ErrorKind::conflict, "ReopenContainerLog: container is not running"});
  if (auto st = reopen_log(d_.runtime, c->info.id); !st) return to_grpc(st);
  // The kubelet renamed the file at the log path (rotation): point a new link at the log.
  if (!c->meta.log_path.empty() && !fs::exists(fs::symlink_status(c->meta.log_path)))
    return to_grpc(link_log(c->meta.log_path, d_.runtime.containers().paths(c->info.id).log()));
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* req,
                                          v1::ExecSyncResponse* out) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  if (req->cmd().empty()) return to_grpc(Error{ErrorKind::invalid_argument, "ExecSync: cmd is empty"});
  ExecOptions opts;
  opts.args.assign(req->cmd().begin(), req->cmd().end());
  if (req->timeout() > 0) opts.timeout = std::chrono::seconds(req->timeout());
  auto r = d_.runtime.exec(c->info.id, opts);
  if (!r) {
    if (r.error().kind == ErrorKind::unavailable && opts.timeout)
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, r.error().message);
    return to_grpc(r.error());
  }
  out->set_stdout(r->out);
  out->set_stderr(r->err);
  out->set_exit_code(r->exit_code);
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::Exec(grpc::ServerContext*, const v1::ExecRequest* req, v1::ExecResponse* out) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  if (req->cmd().empty()) return to_grpc(Error{ErrorKind::invalid_argument, "Exec: cmd is empty"});
  if (!req->stdin() && !req->stdout() && !req->stderr())
    return to_grpc(Error{ErrorKind::invalid_argument, "Exec: one of stdin, stdout and stderr is required"});
  if (c->info.status != zl::ContainerStatus::running)
    return to_grpc(Error{ErrorKind::conflict, "Exec: container " + c->info.id.substr(0, 12) + " is not running"});
  out->set_url(streams_.url_for(StreamRequest{.kind = StreamRequest::Kind::exec,
                                              .container_id = c->info.id,
                                              .cmd = {req->cmd().begin(), req->cmd().end()},
                                              .tty = req->tty(),
                                              .in = req->stdin(),
                                              .out = req->stdout(),
                                              .err = req->stderr() && !req->tty()}));
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::Attach(grpc::ServerContext*, const v1::AttachRequest* req, v1::AttachResponse* out) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  if (!req->stdin() && !req->stdout() && !req->stderr())
    return to_grpc(Error{ErrorKind::invalid_argument, "Attach: one of stdin, stdout and stderr is required"});
  if (c->info.status != zl::ContainerStatus::running)
    return to_grpc(Error{ErrorKind::conflict, "Attach: container " + c->info.id.substr(0, 12) + " is not running"});
  out->set_url(streams_.url_for(StreamRequest{.kind = StreamRequest::Kind::attach,
                                              .container_id = c->info.id,
                                              .tty = c->info.spec.tty,
                                              .in = req->stdin(),
                                              .out = req->stdout(),
                                              .err = req->stderr()}));
  return grpc::Status::OK;
}

// ---- stats ----

Result<v1::ContainerStats> RuntimeServiceImpl::stats_of(const Ctr& c) {
  v1::ContainerStats s;
  auto* a = s.mutable_attributes();
  a->set_id(c.info.id);
  a->mutable_metadata()->set_name(c.meta.name);
  a->mutable_metadata()->set_attempt(c.meta.attempt);
  put(a->mutable_labels(), c.meta.labels);
  put(a->mutable_annotations(), c.meta.annotations);
  int64_t now = now_ns();
  s.mutable_cpu()->set_timestamp(now);
  s.mutable_memory()->set_timestamp(now);
  s.mutable_writable_layer()->set_timestamp(now);
  s.mutable_writable_layer()->mutable_fs_id()->set_mountpoint((c.info.dir / "upper").string());
  if (running(c.info)) {
    auto st = d_.runtime.container_stats(c.info.id);
    if (!st && st.error().kind != ErrorKind::not_found && st.error().kind != ErrorKind::conflict)
      return tl::unexpected(st.error());
    if (st) {
      s.mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(st->cgroup.cpu_usage_usec * 1000);
      s.mutable_memory()->mutable_working_set_bytes()->set_value(st->cgroup.memory_usage_bytes);
      s.mutable_memory()->mutable_usage_bytes()->set_value(st->cgroup.memory_usage_bytes);
      if (st->cgroup.memory_limit_bytes > st->cgroup.memory_usage_bytes)
        s.mutable_memory()->mutable_available_bytes()->set_value(st->cgroup.memory_limit_bytes -
                                                                 st->cgroup.memory_usage_bytes);
    }
  }
  return s;
}

grpc::Status RuntimeServiceImpl::ContainerStats(grpc::ServerContext*, const v1::ContainerStatsRequest* req,
                                                v1::ContainerStatsResponse* out) {
  auto c = ctr(req->container_id());
  if (!c) return to_grpc(c.error());
  auto s = stats_of(*c);
  if (!s) return to_grpc(s.error());
  *out->mutable_stats() = std::move(*s);
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::ListContainerStats(grpc::ServerContext*, const v1::ListContainerStatsRequest* req,
                                                    v1::ListContainerStatsResponse* out) {
  auto all = ctrs();
  if (!all) return to_grpc(all.error());
  const auto& f = req->filter();
  zl::cri::StringMap selector(f.label_selector().begin(), f.label_selector().end());
  for (const auto& c : *all) {
    if (!f.id().empty() && !c.info.id.starts_with(f.id())) continue;
    if (!f.pod_sandbox_id().empty() && !zl::cri::label(c.info, zl::cri::kSandboxLabel).starts_with(f.pod_sandbox_id()))
      continue;
    if (!zl::cri::labels_match(c.meta.labels, selector)) continue;
    auto s = stats_of(c);
    if (!s) return to_grpc(s.error());
    *out->add_stats() = std::move(*s);
  }
  return grpc::Status::OK;
}

Result<v1::PodSandboxStats> RuntimeServiceImpl::pod_stats(const Pod& p) {
  v1::PodSandboxStats out;
  auto* a = out.mutable_attributes();
  a->set_id(p.info.id);
  fill_pod_meta(p.meta, a->mutable_metadata());
  put(a->mutable_labels(), p.meta.labels);
  put(a->mutable_annotations(), p.meta.annotations);
  auto* lx = out.mutable_linux();
  int64_t now = now_ns();
  uint64_t cpu = 0, mem = 0, procs = 0;
  // The pod's usage: its sandbox and its containers (each has a cgroup of its own).
  if (running(p.info))
    if (auto st = d_.runtime.container_stats(p.info.id)) {
      cpu += st->cgroup.cpu_usage_usec * 1000;
      mem += st->cgroup.memory_usage_bytes;
      procs += st->cgroup.pids_current;
      auto* net = lx->mutable_network();
      net->set_timestamp(now);
      auto* eth = net->mutable_default_interface();
      eth->set_name("eth0");
      eth->mutable_rx_bytes()->set_value(st->net_rx_bytes);
      eth->mutable_tx_bytes()->set_value(st->net_tx_bytes);
    }
  ZL_TRY_ASSIGN(auto cs, ctrs());
  for (const auto& c : cs) {
    if (zl::cri::label(c.info, zl::cri::kSandboxLabel) != p.info.id) continue;
    ZL_TRY_ASSIGN(auto s, stats_of(c));
    cpu += s.cpu().usage_core_nano_seconds().value();
    mem += s.memory().working_set_bytes().value();
    if (running(c.info))
      if (auto st = d_.runtime.container_stats(c.info.id)) procs += st->cgroup.pids_current;
    *lx->add_containers() = std::move(s);
  }
  lx->mutable_cpu()->set_timestamp(now);
  lx->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(cpu);
  lx->mutable_memory()->set_timestamp(now);
  lx->mutable_memory()->mutable_working_set_bytes()->set_value(mem);
  lx->mutable_memory()->mutable_usage_bytes()->set_value(mem);
  lx->mutable_process()->set_timestamp(now);
  lx->mutable_process()->mutable_process_count()->set_value(procs);
  return out;
}

grpc::Status RuntimeServiceImpl::PodSandboxStats(grpc::ServerContext*, const v1::PodSandboxStatsRequest* req,
                                                 v1::PodSandboxStatsResponse* out) {
  auto p = pod(req->pod_sandbox_id());
  if (!p) return to_grpc(p.error());
  auto s = pod_stats(*p);
  if (!s) return to_grpc(s.error());
  *out->mutable_stats() = std::move(*s);
  return grpc::Status::OK;
}

grpc::Status RuntimeServiceImpl::ListPodSandboxStats(grpc::ServerContext*, const v1::ListPodSandboxStatsRequest* req,
                                                     v1::ListPodSandboxStatsResponse* out) {
  auto all = pods();
  if (!all) return to_grpc(all.error());
  const auto& f = req->filter();
  zl::cri::StringMap selector(f.label_selector().begin(), f.label_selector().end());
  for (const auto& p : *all) {
    if (!f.id().empty() && !p.info.id.starts_with(f.id())) continue;
    if (!zl::cri::labels_match(p.meta.labels, selector)) continue;
    auto s = pod_stats(p);
    if (!s) return to_grpc(s.error());
    *out->add_stats() = std::move(*s);
  }
  return grpc::Status::OK;
}

}  // namespace zl::api::cri
