// Validates CloudNativePG resources against the CRD's schema as @kubernetes-models/cloudnative-pg ships it
// (generated from CloudNativePG's Go API types): reads a JSON array of manifests on stdin, prints a JSON
// array of {kind, name, error} (error null when valid). Used by tests/contract/test_k8s.py.
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { ScheduledBackup } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/ScheduledBackup";
import { Pooler } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Pooler";

const MODELS = { Cluster, ScheduledBackup, Pooler };
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((doc) => {
  const Model = MODELS[doc.kind];
  if (doc.apiVersion !== "postgresql.cnpg.io/v1" || !Model) {
    return { kind: doc.kind, name: doc.metadata?.name, error: `no CloudNativePG model for ${doc.apiVersion} ${doc.kind}` };
  }
  try {
    new Model(doc).validate();
    return { kind: doc.kind, name: doc.metadata.name, error: null };
  } catch (e) {
    return { kind: doc.kind, name: doc.metadata?.name, error: String(e.message ?? e) };
  }
});
process.stdout.write(JSON.stringify(results));
