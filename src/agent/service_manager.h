// The agent's supervisor: keeps every deployed service at its wanted state. A reconcile loop
// compares the deployments in the state db with the containers the runtime reports (matched
// by their zlayer.* labels), then creates, starts, health-checks, restarts (with backoff),
// replaces (rolling, one replica at a time) and removes containers until they agree. Nothing
// it needs lives only in memory: started again, it re-adopts what runs and carries on.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/restart_backoff.h"
#include "agent/state_db.h"
#include "image/puller.h"
#include "runtime/runtime.h"
#include "spec/deployment_spec.h"

namespace zl {

struct ServiceManagerOptions {
  std::chrono::milliseconds tick{500};
  RegistryOptions registry;
  // $E:VAR lookups; default: the daemon's environment.
  std::function<std::optional<std::string>(const std::string&)> env_lookup;
};

// Counters for /metrics.
struct AgentMetrics {
  int64_t restarts = 0, pulls = 0, pull_failures = 0, health_failures = 0;
};

class ServiceManager {
 public:
  ServiceManager(Runtime& runtime, ImageStore& images, StateDb& db, boost::asio::thread_pool& pool,
                 ServiceManagerOptions opts);
  ~ServiceManager();

  // Loads the deployments from the state db and starts the reconcile loop.
  Status start();
  // Stops the loop; containers keep running (they belong to conmon, not to us).
  void stop();

  // Parses, validates and stores a deployment spec, then lets the loop converge on it.
  // A spec error changes nothing.
  Result<nlohmann::json> apply(const std::string& yaml, const std::string& file_name);
  // Removes a deployment: its containers are stopped (grace period honoured) and removed.
  Status remove(const std::string& deployment);
  Status scale(const std::string& deployment, const std::string& service, int64_t replicas);
  // Restarts every replica of a service (one at a time for services).
  Status restart(const std::string& deployment, const std::string& service);

  Result<nlohmann::json> status(const std::string& deployment);
  nlohmann::json status_all();
  // The containers of a service (for logs), replica order.
  Result<std::vector<ContainerInfo>> service_containers(const std::string& deployment,
                                                        const std::string& service);
  // "web" or "deployment/web" -> {deployment, service}; ambiguity and unknown names are errors.
  Result<std::pair<std::string, std::string>> find_service(const std::string& ref);
  AgentMetrics metrics();

  // Runs one reconcile pass now (tests and the loop).
  void reconcile_once();

 private:
  struct Deployment;
  struct Service;
  struct Replica;

  void loop();
  void wake();
  Status load(const DeploymentRecord& rec);
  void reconcile_deployment(Deployment& d, const std::vector<ContainerInfo>& all);
  void reconcile_service(Deployment& d, Service& s, std::vector<const ContainerInfo*> mine);
  void reconcile_replicas(Deployment& d, Service& s, std::vector<const ContainerInfo*>& mine);
  void reconcile_job(Deployment& d, Service& s, std::vector<const ContainerInfo*>& mine);
  void reconcile_cron(Deployment& d, Service& s, std::vector<const ContainerInfo*>& mine);
  bool dependencies_met(Deployment& d, Service& s);
  bool ensure_image(Deployment& d, Service& s);
  void check_health(Service& s, const ContainerInfo& c);
  // Only healthy replicas of a service with a health check answer to its names (kHealthGatedLabel).
  void publish_service_names(const std::string& id, bool published);
  // Queues the replica's health for its container's health.json when its status or failing
  // streak changed; one pool task at a time writes the queue, newest judgement per container.
  void publish_health(const std::string& container_id, Replica& r);
  void autoscale(Deployment& d, Service& s, const std::vector<const ContainerInfo*>& running);
  int64_t desired_replicas(const Service& s) const;
  // The bookkeeping of replica slot `index` (made on first use, with the policy's backoff).
  Replica& slot(Service& s, int64_t index);
  bool is_healthy(const Service& s, const ContainerInfo& c) const;

  // Background work on the pool; `key` (a container id or a replica slot) is busy until done.
  void submit(const std::string& key, std::function<void()> fn);
  bool busy(const std::string& key) const;
  void create_replica(Deployment& d, Service& s, int64_t index, const std::string& name_suffix);
  void restart_container(Deployment& d, Service& s, int64_t index, const ContainerInfo& c,
                         std::string reason);
  void discard_container(const ContainerInfo& c);
  // Runs a lifecycle hook in the container (exec, 30 s at most); failures are logged.
  void run_hook(const std::string& id, const std::optional<spec::LifecycleHook>& hook, std::string_view what);
  std::optional<spec::LifecycleHook> pre_stop_of(const ContainerInfo& c) const;

  nlohmann::json service_status(const Deployment& d, const Service& s);
  nlohmann::json deployment_status(const Deployment& d);

  Runtime& runtime_;
  ImageStore& images_;
  StateDb& db_;
  boost::asio::thread_pool& pool_;
  ServiceManagerOptions opts_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, woken_ = false;
  std::map<std::string, std::unique_ptr<Deployment>> deployments_;
  std::set<std::string> busy_;
  std::vector<ContainerInfo> last_seen_;  // containers as of the last pass
  AgentMetrics metrics_;
  std::map<std::string, ContainerHealth> health_to_write_;  // container id -> health, not written yet
  bool health_writer_busy_ = false;
  std::thread thread_;
  std::mutex reconcile_mu_;  // one pass at a time
};

}  // namespace zl
