#include "runtime/windows/portable/state.h"

#include <gtest/gtest.h>

namespace zl::win {
namespace {

HcsLayer layer(const char* id, const char* path) {
  return {*parse_guid(id), path};
}

TEST(HcsImageIndex, RoundTripTagRemovePrune) {
  ImageIndex idx;
  idx.put("app:1", {layer("11111111-0000-4000-8000-000000000001", "L\\top"),
                    layer("11111111-0000-4000-8000-000000000002", "L\\base")});
  ASSERT_TRUE(idx.tag("app:1", "app:latest"));
  EXPECT_EQ(idx.tag("nope", "x").error().kind, ErrorKind::not_found);
  auto back = ImageIndex::parse(idx.dump());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->images(), idx.images());
  EXPECT_EQ((*back->chain("app:latest"))[0].path, "L\\top");  // child first survives the trip

  std::vector<Guid> disk = {*parse_guid("11111111-0000-4000-8000-000000000001"),
                            *parse_guid("11111111-0000-4000-8000-000000000002"),
                            *parse_guid("11111111-0000-4000-8000-000000000003")};
  EXPECT_EQ(idx.unreferenced(disk, {}), std::vector<Guid>{disk[2]});
  ASSERT_TRUE(idx.remove("app:1"));
  EXPECT_EQ(idx.unreferenced(disk, {}), std::vector<Guid>{disk[2]});  // still tagged app:latest
  ASSERT_TRUE(idx.remove("app:latest"));
  EXPECT_EQ(idx.unreferenced(disk, {disk[0].str()}),
            (std::vector<Guid>{disk[1], disk[2]}));  // a container holds one
  EXPECT_EQ(idx.remove("app:latest").error().kind, ErrorKind::not_found);
  EXPECT_TRUE(ImageIndex::parse("")->images().empty());
  EXPECT_EQ(ImageIndex::parse("[]").error().kind, ErrorKind::corrupt);
  EXPECT_EQ(ImageIndex::parse(R"({"a":[{"id":"bad","path":"p"}]})").error().kind,
            ErrorKind::invalid_argument);
}

TEST(HcsContainerRecord, RoundTrip) {
  ContainerRecord r;
  r.id = "web-0";
  r.image = "app:1";
  r.isolation = Isolation::hyperv;
  r.layers = {layer("11111111-0000-4000-8000-000000000001", "L\\top")};
  r.scratch_path = "S\\web-0";
  r.endpoint = random_guid();
  r.network_namespace = random_guid();
  r.address = "10.200.3.5";
  r.uvm_runtime_id = random_guid();
  r.memory_limit = 1024;
  r.command = {"cmd", "/c", "echo hi"};
  r.created_unix = 1700000000;
  r.owner_pid = 4242;
  auto back = ContainerRecord::from_json(r.to_json().dump());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
  ContainerRecord minimal;
  minimal.id = "x";
  EXPECT_EQ(*ContainerRecord::from_json(minimal.to_json().dump()), minimal);
  EXPECT_EQ(ContainerRecord::from_json("{}").error().kind, ErrorKind::corrupt);
}

}  // namespace
}  // namespace zl::win
