"""Cluster settings of a rendered overlay agree with each other.

    check_k8s_cluster.py ARCADE_TOML RENDERED.yaml...

For each rendered overlay (kubectl kustomize output):
- every ordinal the HPA (and the StatefulSet's replicas) can reach has a
  per-pod Service `arcade-<n>` selecting exactly that pod, and a host in the
  `arcade-nodes` Ingress routed to it;
- the URL the pods advertise (ARCADE_CLUSTER__ADVERTISE_URL) is
  https://$(POD_NAME).<suffix> with `arcade-<n>.<suffix>` the Ingress hosts,
  listed in its TLS section;
- ARCADE_CLUSTER__NODE_ID is the pod name; ARCADE_CLUSTER__REDIS_URL comes
  from a Secret, not a literal; ARCADE_CLUSTER__SECRET from a required Secret key;
- ARCADE_CLUSTER__CAPACITY equals limits.max_rooms of the ConfigMap's
  arcade.toml.
Prints one line per problem and exits 1 if there is any.
"""

import sys
import tomllib

import yaml


def check(path, max_rooms):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    problems = []

    def problem(message):
        problems.append(f"{path}: {message}")

    sts = by_kind["StatefulSet"]["arcade"]
    hpa = by_kind["HorizontalPodAutoscaler"]["arcade"]
    pods = max(hpa["spec"]["maxReplicas"], sts["spec"].get("replicas", 1))

    container = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "arcade")
    env = {e["name"]: e for e in container.get("env", [])}
    names = [e["name"] for e in container.get("env", [])]

    pod_name = env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    if pod_name != "metadata.name":
        problem("POD_NAME is not the downward-API pod name")
    node_id = env.get("ARCADE_CLUSTER__NODE_ID", {})
    if node_id.get("value") != "$(POD_NAME)" and node_id.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
        problem("ARCADE_CLUSTER__NODE_ID is not the pod name")
    redis = env.get("ARCADE_CLUSTER__REDIS_URL", {})
    if "secretKeyRef" not in redis.get("valueFrom", {}):
        problem("ARCADE_CLUSTER__REDIS_URL must come from a Secret (secretKeyRef)")
    secret = env.get("ARCADE_CLUSTER__SECRET", {}).get("valueFrom", {}).get("secretKeyRef")
    if secret is None or secret.get("optional"):
        problem("ARCADE_CLUSTER__SECRET must come from a Secret (secretKeyRef) that is not optional")
    capacity = env.get("ARCADE_CLUSTER__CAPACITY", {}).get("value")
    if capacity is None or int(capacity) != max_rooms:
        problem(f"ARCADE_CLUSTER__CAPACITY is {capacity!r}, limits.max_rooms in arcade.toml is {max_rooms}")

    advertise = env.get("ARCADE_CLUSTER__ADVERTISE_URL", {}).get("value", "")
    prefix = "https://$(POD_NAME)."
    if not advertise.startswith(prefix) or "/" in advertise[len(prefix):]:
        problem(f"ARCADE_CLUSTER__ADVERTISE_URL {advertise!r} is not {prefix}<domain>")
        return problems
    for var in ("ARCADE_CLUSTER__NODE_ID", "ARCADE_CLUSTER__ADVERTISE_URL"):
        if var in names and "POD_NAME" in names and names.index(var) < names.index("POD_NAME"):
            problem(f"{var} refers to $(POD_NAME) but comes before it")
    suffix = advertise[len(prefix):]

    ingress = by_kind.get("Ingress", {}).get("arcade-nodes")
    if ingress is None:
        problem("no arcade-nodes Ingress")
        return problems
    routes = {}
    for rule in ingress["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            routes.setdefault(rule["host"], set()).add(p["backend"]["service"]["name"])
    tls_hosts = {h for t in ingress["spec"].get("tls", []) for h in t.get("hosts", [])}
    services = by_kind.get("Service", {})
    for n in range(pods):
        pod = f"arcade-{n}"
        host = f"{pod}.{suffix}"
        if routes.get(host) != {pod}:
            problem(f"{host} (advertised by {pod}) is not routed to Service {pod} by Ingress arcade-nodes: {routes.get(host)}")
        if host not in tls_hosts:
            problem(f"{host} is not in the TLS hosts of Ingress arcade-nodes")
        service = services.get(pod)
        if service is None:
            problem(f"no Service {pod} (the HPA can scale to {pods} pods)")
            continue
        selector = service["spec"].get("selector", {})
        if selector.get("statefulset.kubernetes.io/pod-name") != pod:
            problem(f"Service {pod} does not select pod {pod}: {selector}")
        if not service["spec"].get("publishNotReadyAddresses"):
            problem(f"Service {pod} drops a draining (unready) pod: set publishNotReadyAddresses")
    return problems


def main():
    config = tomllib.load(open(sys.argv[1], "rb"))
    max_rooms = config["limits"]["max_rooms"]
    redis_url = config.get("cluster", {}).get("redis_url", "")
    problems = []
    if redis_url:
        problems.append(f"{sys.argv[1]}: cluster.redis_url must stay empty (it comes from the Secret)")
    for path in sys.argv[2:]:
        problems += check(path, max_rooms)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"cluster settings consistent in {len(sys.argv) - 2} overlays (capacity {max_rooms})")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
