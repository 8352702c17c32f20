// Image commands: pull, images, image inspect, tag, rmi, image prune, load, save, login, logout.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/pull_progress.h"
#include "image/archive_io.h"
#include "image/auth.h"
#include "image/puller.h"
#include "image/reference.h"

namespace zl::cli {

namespace {

using json = nlohmann::json;

struct PullArgs {
  std::string image, platform, policy = "if_not_present";
  bool quiet = false;
};

// Image events of the CLI's own pulls, tags, removals and loads, in the log `docker events` reads.
void record_image_event(Context& ctx, const std::string& action, const std::string& id, const std::string& name) {
  if (auto rt = ctx.runtime()) (*rt)->events().record_image(action, id, name);
}

Result<int> pull(Context& ctx, const PullArgs& a) {
  ZL_TRY_ASSIGN(auto ref, Reference::parse(a.image));
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  PullOptions opts;
  ZL_TRY_ASSIGN(opts.policy, parse_pull_policy(a.policy));
  if (!a.platform.empty()) {
    ZL_TRY_ASSIGN(opts.platform, Platform::parse(a.platform));
  }
  bool show = !a.quiet && stdout_is_terminal();
  PullProgress progress(stdout);
  if (show) {
    std::cout << "Pulling " << ref.familiar() << std::endl;
    opts.progress = [&](const BlobProgress& p) { progress.update(p); };
  }
  Puller puller(*store, ctx.registry_options());
  ZL_TRY_ASSIGN(auto rec, puller.pull(ref, opts));
  record_image_event(ctx, "pull", ref.familiar(), ref.repository);
  if (show) {
    progress.finish();
    std::cout << "Digest: " << rec.manifest_digest.str() << "\n";
  }
  std::cout << ref.str() << "\n";
  return 0;
}

// "docker.io/library/busybox:1.36" -> {"busybox", "1.36"}; digest references have tag "<none>".
std::pair<std::string, std::string> repo_and_tag(const std::string& reference) {
  auto ref = Reference::parse(reference);
  if (!ref) return {reference, "<none>"};
  Reference bare = *ref;
  bare.tag = "";
  bare.digest.reset();
  return {bare.familiar(), ref->tag.empty() ? "<none>" : ref->tag};
}

struct ImagesArgs {
  bool quiet = false, digests = false, no_trunc = false;
  std::string format;
};

Result<int> images(Context& ctx, const ImagesArgs& a) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  ZL_TRY_ASSIGN(auto list, store->list());
  std::sort(list.begin(), list.end(), [](const auto& x, const auto& y) {
    return x.created_unix != y.created_unix ? x.created_unix > y.created_unix : x.reference < y.reference;
  });
  auto id_of = [&](const ImageSummary& s) {
    return a.no_trunc ? s.config_digest.str() : std::string(s.config_digest.hex().substr(0, 12));
  };
  if (a.format == "json") {
    json out = json::array();
    for (const auto& s : list) {
      out.push_back({{"Reference", s.reference},
                     {"Id", s.config_digest.str()},
                     {"Digest", s.manifest_digest.str()},
                     {"Size", s.size},
                     {"Created", s.created_unix}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (!a.format.empty()) return invalid_argument("unknown --format \"{}\": only \"json\" is supported", a.format);
  if (a.quiet) {
    std::set<std::string> seen;
    for (const auto& s : list)
      if (seen.insert(id_of(s)).second) std::cout << id_of(s) << "\n";
    return 0;
  }
  std::vector<std::string> header = {"REPOSITORY", "TAG"};
  if (a.digests) header.push_back("DIGEST");
  for (const char* h : {"IMAGE ID", "CREATED", "SIZE"}) header.push_back(h);
  Table t(header);
  for (const auto& s : list) {
    auto [repo, tag] = repo_and_tag(s.reference);
    std::vector<std::string> row = {repo, tag};
    if (a.digests) row.push_back(s.manifest_digest.str());
    for (auto cell : {id_of(s), time_ago(s.created_unix), human_size(s.size)}) row.push_back(cell);
    t.add(row);
  }
  std::cout << t.str();
  return 0;
}

Result<json> inspect_one(Context& ctx, ImageStore& store, const std::string& name) {
  ZL_TRY_ASSIGN(auto d, store.inspect(ctx.store_name(store, name)));
  ZL_TRY_ASSIGN(auto all, store.list());
  json tags = json::array(), digests = json::array();
  for (const auto& s : all) {
    if (s.config_digest != d.record.config_digest) continue;
    auto ref = Reference::parse(s.reference);
    if (!ref) continue;
    if (!ref->tag.empty() && !ref->digest) tags.push_back(ref->familiar());
    digests.push_back(ref->with_digest(s.manifest_digest).familiar());
  }
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  json layers = json::array(), dirs = json::array();
  for (const auto& id : d.diff_ids) layers.push_back(id.str());
  for (const auto& p : d.layer_dirs) dirs.push_back(p.string());
  const json& c = d.config;
  return json{{"Id", d.record.config_digest.str()},
              {"RepoTags", tags},
              {"RepoDigests", digests},
              {"Created", c.value("created", "")},
              {"Author", c.value("author", "")},
              {"Architecture", c.value("architecture", "")},
              {"Variant", c.value("variant", "")},
              {"Os", c.value("os", "")},
              {"Config", c.value("config", json::object())},
              {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
              {"History", c.value("history", json::array())},
              {"Size", d.size},
              {"Manifest", {{"Digest", d.record.manifest_digest.str()},
                            {"MediaType", d.manifest.value("mediaType", "")},
                            {"Platform", d.record.platform}}},
              {"LayerDirs", dirs}};
}

Result<int> inspect(Context& ctx, const std::vector<std::string>& names) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  json out = json::array();
  std::vector<Error> errors;
  for (const auto& n : names) {
    auto one = inspect_one(ctx, *store, n);
    if (one) out.push_back(std::move(*one));
    else errors.push_back(one.error());
  }
  std::cout << out.dump(4) << "\n";
  for (size_t i = 0; i + 1 < errors.size(); ++i) std::cerr << "zlayer: " << errors[i].message << "\n";
  if (!errors.empty()) return tl::unexpected(errors.back());
  return 0;
}

Result<int> tag(Context& ctx, const std::string& source, const std::string& target) {
  ZL_TRY_ASSIGN(auto target_ref, Reference::parse(target));
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  ZL_TRY(store->tag(ctx.store_name(*store, source), target_ref.str()));
  if (auto img = store->inspect(target_ref.str()))
    record_image_event(ctx, "tag", img->record.config_digest.str(), target_ref.familiar());
  return 0;
}

Result<int> rmi(Context& ctx, const std::vector<std::string>& names, bool force) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  ZL_TRY_ASSIGN(LinuxRuntime * runtime, ctx.runtime());
  auto in_use = [runtime](const Digest& image_id) { return runtime->image_in_use(image_id); };
  int failures = 0;
  bool removed_any = false;
  std::vector<Digest> touched;  // images that lost a name: deleted if none is left
  for (const auto& n : names) {
    auto before = store->inspect(ctx.store_name(*store, n));
    if (before) touched.push_back(before->record.config_digest);
    std::string image_id = before ? before->record.config_digest.str() : "";
    auto untagged = store->remove(ctx.store_name(*store, n), force, in_use);
    if (!untagged) {
      std::cerr << "zlayer: " << untagged.error().message << "\n";
      ++failures;
      continue;
    }
    for (const auto& r : *untagged) {
      std::cout << "Untagged: " << r << "\n";
      record_image_event(ctx, "untag", image_id, familiar_image(r));
    }
    removed_any = true;
  }
  if (removed_any) {
    // Content no name refers to any more goes now, as with docker rmi.
    ZL_TRY_ASSIGN(auto report, store->prune());
    for (const auto& b : report.blobs_removed) std::cout << "Deleted: " << b.str() << "\n";
    for (const auto& id : touched)
      if (!store->inspect(std::string(id.hex()))) record_image_event(ctx, "delete", id.str(), id.str());
  }
  return failures ? 1 : 0;
}

Result<int> prune(Context& ctx) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  ZL_TRY_ASSIGN(auto report, store->prune());
  for (const auto& b : report.blobs_removed) std::cout << "deleted blob: " << b.str() << "\n";
  for (const auto& l : report.layers_removed) std::cout << "deleted layer: " << l.str() << "\n";
  std::cout << fmt::format("Deleted {} blobs and {} layers. Total reclaimed space: {}\n", report.blobs_removed.size(),
                           report.layers_removed.size(), human_size(report.bytes_freed));
  return 0;
}

// Re-hashes every blob and checks every image's manifest, config and layers are present.
Result<int> verify(Context& ctx) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  ZL_TRY(store->verify());
  ZL_TRY_ASSIGN(auto blobs, store->content().list());
  ZL_TRY_ASSIGN(auto images, store->index().list());
  std::cout << fmt::format("ok: {} images, {} blobs verified\n", images.size(), blobs.size());
  return 0;
}

Result<int> load(Context& ctx, const std::string& input, const std::string& name, bool quiet) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  LoadOptions opts;
  if (!name.empty()) {
    ZL_TRY_ASSIGN(auto ref, Reference::parse(name));
    opts.default_repository = ref.name();
  }
  ZL_TRY_ASSIGN(auto loaded, load_images(*store, input, opts));
  for (const auto& r : loaded) {
    std::cout << (quiet ? "" : "Loaded image: ") << r << "\n";
    record_image_event(ctx, "load", familiar_image(r), familiar_image(r));
  }
  return 0;
}

Result<int> save(Context& ctx, const std::string& output, const std::vector<std::string>& names) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  std::vector<std::string> resolved;
  for (const auto& n : names) resolved.push_back(ctx.store_name(*store, n));
  ZL_TRY(save_images(*store, resolved, output));
  return 0;
}

std::string trim_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

struct LoginArgs {
  std::string registry, username, password;
  bool password_stdin = false;
};

Result<int> login(Context& ctx, LoginArgs a) {
  if (a.registry.empty()) a.registry = std::string(default_registry);
  if (a.password_stdin) {
    if (!a.password.empty()) return invalid_argument("--password and --password-stdin are mutually exclusive");
    std::string line;
    std::getline(std::cin, line);
    a.password = trim_newline(line);
  }
  if (a.username.empty()) {
    if (!::isatty(STDIN_FILENO)) return invalid_argument("login needs --username when stdin is not a terminal");
    std::cout << "Username: " << std::flush;
    std::getline(std::cin, a.username);
  }
  if (a.password.empty()) {
    if (!::isatty(STDIN_FILENO)) return invalid_argument("login needs a password (--password-stdin)");
    char* pw = ::getpass("Password: ");
    a.password = pw ? pw : "";
  }
  RegistryOptions opts = ctx.registry_options();
  opts.credentials = Credentials{a.username, a.password};
  ZL_TRY_ASSIGN(auto client, RegistryClient::create(a.registry, opts));
  ZL_TRY(client->ping().map_error([&](Error e) { return std::move(e).wrap("login to " + a.registry); }));
  fs::path config = ctx.auth_config.empty() ? default_auth_config_path() : fs::path(ctx.auth_config);
  ZL_TRY(save_login(a.registry, a.username, a.password, config));
  std::cout << "Login Succeeded\n";
  return 0;
}

Result<int> logout(Context& ctx, std::string registry) {
  if (registry.empty()) registry = std::string(default_registry);
  fs::path config = ctx.auth_config.empty() ? default_auth_config_path() : fs::path(ctx.auth_config);
  ZL_TRY_ASSIGN(bool removed, remove_login(registry, config));
  std::cout << (removed ? "Removing login credentials for " : "Not logged in to ") << registry << "\n";
  return 0;
}

}  // namespace

void add_image_commands(CLI::App& app, Context& ctx) {
  auto pull_args = std::make_shared<PullArgs>();
  auto* p = app.add_subcommand("pull", "Pull an image from a registry");
  p->add_option("image", pull_args->image, "Image reference")->required();
  p->add_option("--platform", pull_args->platform, "os/arch[/variant] (default: this node's)");
  p->add_option("--policy", pull_args->policy, "always | newer | if_not_present | never")->capture_default_str();
  p->add_flag("-q,--quiet", pull_args->quiet, "No progress output");
  p->callback(run([&ctx, pull_args] { return pull(ctx, *pull_args); }));

  auto images_args = std::make_shared<ImagesArgs>();
  auto add_list = [&](CLI::App* c) {
    c->add_flag("-q,--quiet", images_args->quiet, "Only image ids");
    c->add_flag("--digests", images_args->digests, "Show manifest digests");
    c->add_flag("--no-trunc", images_args->no_trunc, "Full image ids");
    c->add_option("--format", images_args->format, "json");
    c->callback(run([&ctx, images_args] { return images(ctx, *images_args); }));
  };
  add_list(app.add_subcommand("images", "List images"));

  auto* image = app.add_subcommand("image", "Manage images");
  image->require_subcommand(1);
  add_list(image->add_subcommand("ls", "List images"));
  auto inspect_names = std::make_shared<std::vector<std::string>>();
  auto* ins = image->add_subcommand("inspect", "Show an image's config, layers and history as JSON");
  ins->add_option("image", *inspect_names)->required();
  ins->callback(run([&ctx, inspect_names] { return inspect(ctx, *inspect_names); }));

  auto* pr = image->add_subcommand("prune", "Delete blobs and layers no image uses");
  pr->add_flag("-a,--all,-f,--force")->description("accepted for docker compatibility");
  pr->callback(run([&ctx] { return prune(ctx); }));

  image->add_subcommand("verify", "Check the store: every blob's digest, every image's parts present")
      ->callback(run([&ctx] { return verify(ctx); }));

  auto tag_args = std::make_shared<std::pair<std::string, std::string>>();
  auto* t = app.add_subcommand("tag", "Give an image another name");
  t->add_option("source", tag_args->first)->required();
  t->add_option("target", tag_args->second)->required();
  t->callback(run([&ctx, tag_args] { return tag(ctx, tag_args->first, tag_args->second); }));

  auto rmi_names = std::make_shared<std::vector<std::string>>();
  auto rmi_force = std::make_shared<bool>(false);
  auto add_rmi = [&](CLI::App* c) {
    c->add_option("image", *rmi_names)->required();
    c->add_flag("-f,--force", *rmi_force, "Remove even if in use, and every name of an id");
    c->callback(run([&ctx, rmi_names, rmi_force] { return rmi(ctx, *rmi_names, *rmi_force); }));
  };
  add_rmi(app.add_subcommand("rmi", "Remove images"));
  add_rmi(image->add_subcommand("rm", "Remove images"));

  auto load_args = std::make_shared<std::tuple<std::string, std::string, bool>>();
  auto* l = app.add_subcommand("load", "Load images from an OCI layout, OCI archive or docker save archive");
  l->add_option("-i,--input", std::get<0>(*load_args), "Archive or OCI layout directory")->required();
  l->add_option("--name", std::get<1>(*load_args), "Repository for images named only by a tag");
  l->add_flag("-q,--quiet", std::get<2>(*load_args));
  l->callback(run([&ctx, load_args] {
    return load(ctx, std::get<0>(*load_args), std::get<1>(*load_args), std::get<2>(*load_args));
  }));

  auto save_args = std::make_shared<std::pair<std::string, std::vector<std::string>>>();
  auto* s = app.add_subcommand("save", "Save images to an OCI archive");
  s->add_option("-o,--output", save_args->first, "Archive to write")->required();
  s->add_option("image", save_args->second)->required();
  s->callback(run([&ctx, save_args] { return save(ctx, save_args->first, save_args->second); }));

  auto login_args = std::make_shared<LoginArgs>();
  auto* li = app.add_subcommand("login", "Log in to a registry (writes docker's config.json)");
  li->add_option("registry", login_args->registry, "Registry host[:port] (default docker.io)");
  li->add_option("-u,--username", login_args->username);
  li->add_option("-p,--password", login_args->password);
  li->add_flag("--password-stdin", login_args->password_stdin);
  li->callback(run([&ctx, login_args] { return login(ctx, *login_args); }));

  auto logout_registry = std::make_shared<std::string>();
  auto* lo = app.add_subcommand("logout", "Forget the login for a registry");
  lo->add_option("registry", *logout_registry);
  lo->callback(run([&ctx, logout_registry] { return logout(ctx, *logout_registry); }));
}

}  // namespace zl::cli
