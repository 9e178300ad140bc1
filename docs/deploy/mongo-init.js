// Run once by compose.yaml's `mongo-init` service (mongosh, connected to mongo1): makes the three mongod
// processes one replica set, then waits for it to elect a primary. Idempotent: a set already initiated is left as
// it is, so `docker compose up` may run it again.
const replSet = "rs0";
const members = [
  { _id: 0, host: "mongo1:27017", priority: 2 }, // preferred primary while it is healthy
  { _id: 1, host: "mongo2:27017", priority: 1 },
  { _id: 2, host: "mongo3:27017", priority: 1 },
];

try {
  const status = rs.status();
  print(`replica set ${status.set} already initiated`);
} catch (error) {
  if (error.codeName !== "NotYetInitialized") throw error;
  rs.initiate({ _id: replSet, members });
  print(`replica set ${replSet} initiated with ${members.length} members`);
}

const deadline = Date.now() + 60 * 1000;
while (!rs.status().members.some((member) => member.stateStr === "PRIMARY")) {
  if (Date.now() > deadline) {
    print("no primary elected within 60 s");
    quit(1);
  }
  sleep(500);
}
print("primary elected");
