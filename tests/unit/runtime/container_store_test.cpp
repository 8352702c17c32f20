// ContainerStore::interrupted_create: which container directories a crashed create left.
#include <gtest/gtest.h>
#include <sys/time.h>

#include "common/fs.h"
#include "runtime/container_store.h"

namespace zl {
namespace {

// Sets the directory's times `seconds` into the past.
void age(const fs::path& dir, int seconds) {
  timeval tv[2];
  ::gettimeofday(&tv[0], nullptr);
  tv[0].tv_sec -= seconds;
  tv[1] = tv[0];
  ASSERT_EQ(::utimes(dir.c_str(), tv), 0);
}

TEST(ContainerStore, ACreateThatDiedBeforeOrAfterItsLockIsInterruptedOnceOldEnough) {
  auto root = TempDir::create(fs::temp_directory_path(), "zl-store-test-");
  ASSERT_TRUE(root);
  ContainerStore store(root->path());
  std::string unlocked(64, 'a'), locked(64, 'b'), held(64, 'c'), recorded(64, 'd');

  // Made, never locked (the process died between mkdir and its lock).
  ASSERT_TRUE(make_dirs(root->path() / unlocked));
  EXPECT_FALSE(store.interrupted_create(unlocked, 3)) << "a live create looks like this for a moment";
  age(root->path() / unlocked, 10);
  EXPECT_TRUE(store.interrupted_create(unlocked, 3));

  // Locked, then died: the lock is free.
  ASSERT_TRUE(make_dirs(root->path() / locked));
  { ASSERT_TRUE(FileLock::acquire(root->path() / locked / "lock")); }
  age(root->path() / locked, 10);
  EXPECT_TRUE(store.interrupted_create(locked, 3));

  // Still being created: its creator holds the lock.
  ASSERT_TRUE(make_dirs(root->path() / held));
  auto lock = FileLock::acquire(root->path() / held / "lock");
  ASSERT_TRUE(lock);
  age(root->path() / held, 10);
  EXPECT_FALSE(store.interrupted_create(held, 3));

  // Recorded: a container, not a create.
  ASSERT_TRUE(make_dirs(root->path() / recorded));
  ASSERT_TRUE(write_file_atomic(root->path() / recorded / "container.json", "{}"));
  age(root->path() / recorded, 10);
  EXPECT_FALSE(store.interrupted_create(recorded, 3));
}

}  // namespace
}  // namespace zl
