#include <gtest/gtest.h>

#include "api/http_server.h"

namespace zl::api {
namespace {

Request request(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

TEST(Router, BindsPathParametersAndDecodesThem) {
  Router r;
  std::string hit;
  r.add("GET", "/v1/deployments/{name}/services/{service}/logs", [&](Request&, Responder&) { hit = "logs"; });
  r.add("GET", "/v1/deployments/{name}", [&](Request&, Responder&) { hit = "one"; });
  auto req = request("GET", "/v1/deployments/my%20app/services/web/logs?tail=5");
  auto m = r.match(req);
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(m.pattern, "/v1/deployments/{name}/services/{service}/logs");
  EXPECT_EQ(req.params["name"], "my app");
  EXPECT_EQ(req.params["service"], "web");
}

TEST(Router, RestParameterTakesSlashes) {
  Router r;
  r.add("GET", "/images/{name...}/json", [](Request&, Responder&) {});
  r.add("DELETE", "/images/{name...}", [](Request&, Responder&) {});
  auto req = request("DELETE", "/images/registry:5000/a/b:1");
  auto m = r.match(req);
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(req.params["name"], "registry:5000/a/b:1");
  auto inspect = request("GET", "/images/library/busybox:1.36/json");
  auto mi = r.match(inspect);
  ASSERT_TRUE(mi.handler);
  EXPECT_EQ(mi.pattern, "/images/{name...}/json");
  EXPECT_EQ(inspect.params["name"], "library/busybox:1.36");
  auto none = request("GET", "/images/json");  // the rest takes at least one segment
  EXPECT_FALSE(r.match(none).handler);
}

TEST(Router, TellsAnUnknownPathFromAWrongMethod) {
  Router r;
  r.add("GET", "/v1/ping", [](Request&, Responder&) {});
  auto a = request("POST", "/v1/ping");
  auto ma = r.match(a);
  EXPECT_FALSE(ma.handler);
  EXPECT_TRUE(ma.path_known);
  auto b = request("GET", "/v1/pong");
  auto mb = r.match(b);
  EXPECT_FALSE(mb.handler);
  EXPECT_FALSE(mb.path_known);
  auto c = request("HEAD", "/v1/ping");  // HEAD is served by GET routes
  EXPECT_TRUE(r.match(c).handler);
}

TEST(Router, ErrorKindsMapToHttpStatuses) {
  EXPECT_EQ(http_status_for(ErrorKind::invalid_argument), 400);
  EXPECT_EQ(http_status_for(ErrorKind::not_found), 404);
  EXPECT_EQ(http_status_for(ErrorKind::conflict), 409);
  EXPECT_EQ(http_status_for(ErrorKind::already_exists), 409);
  EXPECT_EQ(http_status_for(ErrorKind::unavailable), 503);
  EXPECT_EQ(http_status_for(ErrorKind::internal), 500);
}

}  // namespace
}  // namespace zl::api
