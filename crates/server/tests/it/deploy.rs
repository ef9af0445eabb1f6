//! The deployment files stay in step with the code (Docker is not available
//! here, so they are parsed, not run): the Dockerfile, compose.yaml and the
//! Kubernetes manifests under deploy/k8s run as UID 1000 on a read-only
//! root filesystem, probe `/health` and `/ready` (routes that exist and that
//! the host check lets through), set only environment variables Fluxion
//! reads, put data and models on volumes and give the drain time to finish;
//! `fluxion service install|uninstall|print` writes the systemd unit (checked
//! with `systemd-analyze verify` when present) and the LaunchAgent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fluxion::config::KNOWN;
use fluxion::guard::PROBE_PATHS;
use fluxion::lifecycle::DEFAULT_DRAIN_MS;
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The one YAML document in `path`.
fn yaml(path: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "{path}: one document");
    docs.remove(0)
}

fn s<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str().unwrap_or_else(|| panic!("{what}: expected a string, got {y:?}"))
}

fn i(y: &Yaml, what: &str) -> i64 {
    y.as_i64().unwrap_or_else(|| panic!("{what}: expected an integer, got {y:?}"))
}

fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash().map(|h| h.keys().filter_map(|k| k.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn known(names: impl IntoIterator<Item = String>, file: &str) {
    for name in names {
        assert!(KNOWN.contains(&name.as_str()), "{file}: {name} is not a setting Fluxion reads (config::KNOWN)");
    }
}

/// Probe paths: routes the server has and the host check lets through.
fn probe(path: &str, file: &str) {
    assert!(PROBE_PATHS.contains(&path), "{file}: {path} is not a probe path the host check lets through");
}

/// `11m`, `90s`, `1h` → seconds.
fn duration_s(text: &str) -> i64 {
    let (n, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 = n.parse().unwrap_or_else(|_| panic!("duration {text}"));
    n * match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        other => panic!("unit {other} in {text}"),
    }
}

const DEFAULT_PORT: i64 = 3002;

#[test]
fn dockerfile_runs_unprivileged_with_volumes_and_a_health_check() {
    let file = read("Dockerfile");
    let lines: Vec<&str> = file.lines().map(str::trim).filter(|l| !l.starts_with('#')).collect();
    assert!(lines.iter().filter(|l| l.starts_with("FROM ")).count() >= 2, "multi-stage");
    assert!(lines.iter().any(|l| l.starts_with("COPY --from=build ")), "the runtime stage copies the built binary");
    assert!(lines.contains(&"USER 1000:1000"), "runs as UID 1000");
    assert!(lines.contains(&format!("EXPOSE {DEFAULT_PORT}").as_str()));
    assert!(lines.contains(&r#"VOLUME ["/data", "/models"]"#));
    // ENV lines (continued with `\`).
    let joined = file.replace("\\\n", " ");
    let env: Vec<(String, String)> = joined
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENV "))
        .flat_map(|l| l.split_whitespace().map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).expect("KEY=value")))
        .collect();
    known(env.iter().map(|(k, _)| k.clone()).filter(|k| k != "HOME"), "Dockerfile");
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("FLUXION_HOST"), Some("0.0.0.0"));
    assert_eq!(get("FLUXION_PORT"), Some("3002"));
    for (k, under) in
        [("FLUXION_DB", "/data/"), ("BACKUP_DIR", "/data/"), ("FLUXION_CACHE_DIR", "/data/"), ("FLUXION_MODELS_DIR", "/models")]
    {
        assert!(get(k).is_some_and(|v| v.starts_with(under)), "{k} on the {under} volume: {:?}", get(k));
    }
    let health = joined.lines().find(|l| l.trim_start().starts_with("HEALTHCHECK")).expect("HEALTHCHECK");
    assert!(health.contains(&format!("http://127.0.0.1:{DEFAULT_PORT}/health")), "{health}");
    probe("/health", "Dockerfile");
    assert!(lines.contains(&"STOPSIGNAL SIGTERM"));
}

#[test]
fn compose_runs_fluxion_read_only_with_postgres() {
    let doc = yaml("compose.yaml");
    let f = &doc["services"]["fluxion"];
    assert_eq!(s(&f["user"], "user"), "1000:1000");
    assert_eq!(f["read_only"].as_bool(), Some(true), "read-only root filesystem");
    let env = &f["environment"];
    known(keys(env), "compose.yaml");
    let url = s(&env["DATABASE_URL"], "DATABASE_URL");
    assert!(url.starts_with("postgres://") && url.contains("@postgres:5432/"), "{url}");
    assert!(!doc["services"]["postgres"].is_badvalue(), "a postgres service");
    assert_eq!(s(&env["FLUXION_HOST"], "host"), "0.0.0.0");
    let ports: Vec<&str> = f["ports"].as_vec().expect("ports").iter().map(|p| s(p, "port")).collect();
    assert_eq!(ports, [format!("{DEFAULT_PORT}:{DEFAULT_PORT}")]);
    let mounts: Vec<&str> =
        f["volumes"].as_vec().expect("volumes").iter().map(|v| s(v, "volume").split(':').nth(1).expect("target")).collect();
    assert!(mounts.contains(&"/data") && mounts.contains(&"/models"), "{mounts:?}");
    let declared = keys(&doc["volumes"]);
    for v in f["volumes"].as_vec().expect("volumes") {
        let source = s(v, "volume").split(':').next().expect("source");
        assert!(declared.iter().any(|d| d == source), "volume {source} declared");
    }
    let test: Vec<&str> = f["healthcheck"]["test"].as_vec().expect("healthcheck").iter().map(|t| s(t, "test")).collect();
    assert!(test.iter().any(|t| t.ends_with(&format!(":{DEFAULT_PORT}/health"))), "{test:?}");
    let drain_ms: i64 = s(&env["SHUTDOWN_DRAIN_MS"], "drain").parse().expect("ms");
    assert!(duration_s(s(&f["stop_grace_period"], "grace")) * 1000 > drain_ms, "the stop grace period covers the drain");
}

#[test]
fn kubernetes_manifests_keep_the_invariants() {
    let dir = "deploy/k8s";
    let listed: BTreeSet<String> = yaml(&format!("{dir}/kustomization.yaml"))["resources"]
        .as_vec()
        .expect("resources")
        .iter()
        .map(|r| s(r, "resource").to_string())
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(repo().join(dir))
        .expect("deploy/k8s")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    assert_eq!(listed, present, "kustomization.yaml lists every manifest");
    let docs: Vec<Yaml> = present.iter().map(|f| yaml(&format!("{dir}/{f}"))).collect();
    let of_kind = |kind: &str| docs.iter().find(|d| d["kind"].as_str() == Some(kind)).unwrap_or_else(|| panic!("a {kind}"));
    for d in &docs {
        assert!(d["apiVersion"].as_str().is_some() && d["metadata"]["name"].as_str().is_some(), "{d:?}");
    }

    let config = of_kind("ConfigMap");
    let secret = of_kind("Secret");
    known(keys(&config["data"]), "configmap.yaml");
    known(keys(&secret["stringData"]), "secret.yaml");
    let drain_ms: i64 = s(&config["data"]["SHUTDOWN_DRAIN_MS"], "drain").parse().expect("ms");
    assert!(drain_ms >= DEFAULT_DRAIN_MS as i64, "the drain covers the longest call");
    assert!(!secret["stringData"]["DATABASE_URL"].is_badvalue(), "the database address is a secret");

    let deployment = of_kind("Deployment");
    let pod = &deployment["spec"]["template"];
    let labels = &pod["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], labels);
    let spec = &pod["spec"];
    assert!(i(&spec["terminationGracePeriodSeconds"], "grace") * 1000 > drain_ms, "the grace period covers the drain");
    assert_eq!(spec["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(i(&spec["securityContext"]["runAsUser"], "uid"), 1000);
    let containers = spec["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(sc["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(i(&sc["runAsUser"], "uid"), 1000);
    assert_eq!(sc["capabilities"]["drop"][0].as_str(), Some("ALL"));
    assert_eq!(i(&c["ports"][0]["containerPort"], "port"), DEFAULT_PORT);
    let port_name = s(&c["ports"][0]["name"], "port name");
    for (probe_kind, path) in [("livenessProbe", "/health"), ("readinessProbe", "/ready"), ("startupProbe", "/health")] {
        let get = &c[probe_kind]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe_kind}");
        assert_eq!(get["port"].as_str(), Some(port_name), "{probe_kind}");
        probe(path, "deployment.yaml");
    }
    assert!(!c["resources"]["requests"]["cpu"].is_badvalue() && !c["resources"]["limits"]["memory"].is_badvalue(), "resources");
    let refs: Vec<&str> = c["envFrom"]
        .as_vec()
        .expect("envFrom")
        .iter()
        .map(|e| e["configMapRef"]["name"].as_str().or_else(|| e["secretRef"]["name"].as_str()).expect("a reference"))
        .collect();
    assert_eq!(refs, [s(&config["metadata"]["name"], "configmap"), s(&secret["metadata"]["name"], "secret")]);
    let mounts: Vec<&str> = c["volumeMounts"].as_vec().expect("mounts").iter().map(|m| s(&m["mountPath"], "mount")).collect();
    for needed in ["/data", "/models", "/tmp"] {
        assert!(mounts.contains(&needed), "{needed} is writable or mounted: {mounts:?}");
    }
    assert!(s(&config["data"]["FLUXION_MODELS_DIR"], "models") == "/models");
    let volumes = spec["volumes"].as_vec().expect("volumes");
    for m in c["volumeMounts"].as_vec().expect("mounts") {
        assert!(volumes.iter().any(|v| v["name"] == m["name"]), "volume for {:?}", m["name"]);
    }
    let claim = volumes.iter().find_map(|v| v["persistentVolumeClaim"]["claimName"].as_str()).expect("models claim");
    assert_eq!(of_kind("PersistentVolumeClaim")["metadata"]["name"].as_str(), Some(claim));

    let service = of_kind("Service");
    assert_eq!(s(&service["spec"]["sessionAffinity"], "affinity"), "ClientIP", "WebSockets stay on their pod");
    assert_eq!(&service["spec"]["selector"], labels);
    assert_eq!(service["spec"]["ports"][0]["targetPort"].as_str(), Some(port_name));

    let hpa = of_kind("HorizontalPodAutoscaler");
    assert_eq!(s(&hpa["apiVersion"], "api"), "autoscaling/v2");
    assert_eq!((i(&hpa["spec"]["minReplicas"], "min"), i(&hpa["spec"]["maxReplicas"], "max")), (2, 10));
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], deployment["metadata"]["name"]);
    let cpu = &hpa["spec"]["metrics"][0]["resource"];
    assert_eq!((s(&cpu["name"], "cpu"), i(&cpu["target"]["averageUtilization"], "cpu")), ("cpu", 80));

    let pdb = of_kind("PodDisruptionBudget");
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels);
}

/// Runs the binary; its standard output.
fn fluxion(args: &[&str], home: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fluxion"))
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .expect("run fluxion");
    assert!(out.status.success(), "fluxion {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn service_files_are_installed_and_valid() {
    let home = tempfile::tempdir().expect("home");
    let bin = env!("CARGO_BIN_EXE_fluxion");
    for system in [true, false] {
        let mut args = vec!["service", "print", "--platform", "linux"];
        if system {
            args.push("--system");
        }
        let unit = fluxion(&args, home.path());
        assert!(unit.contains(&format!("ExecStart={bin} serve")), "{unit}");
        assert_eq!(unit.contains("DynamicUser=yes"), system, "{unit}");
        let env: Vec<String> = unit
            .lines()
            .filter_map(|l| l.strip_prefix("Environment="))
            .map(|kv| kv.split_once('=').expect("KEY=value").0.to_string())
            .collect();
        assert!(env.contains(&"FLUXION_DB".to_string()) && env.contains(&"BACKUP_DIR".to_string()), "{env:?}");
        known(env, "fluxion.service");
        let stop: i64 = unit.lines().find_map(|l| l.strip_prefix("TimeoutStopSec=")).expect("TimeoutStopSec").parse().expect("s");
        assert!(stop * 1000 > DEFAULT_DRAIN_MS as i64, "systemd waits for the drain");
        if Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success()) {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("fluxion.service");
            std::fs::write(&path, &unit).expect("write");
            let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().expect("systemd-analyze");
            assert!(out.status.success(), "systemd-analyze verify (system {system}): {}", String::from_utf8_lossy(&out.stderr));
        } else {
            eprintln!("systemd-analyze absent: the unit is checked by its contents only");
        }
    }

    // install / uninstall write and remove the user unit.
    let target = home.path().join(".config/systemd/user/fluxion.service");
    let said = fluxion(&["service", "install", "--platform", "linux"], home.path());
    assert!(said.contains("systemctl --user"), "{said}");
    let installed = std::fs::read_to_string(&target).expect("installed unit");
    assert!(installed.contains("WantedBy=default.target"));
    fluxion(&["service", "uninstall", "--platform", "linux"], home.path());
    assert!(!target.exists());

    let agent = fluxion(&["service", "print", "--platform", "macos"], home.path());
    assert!(agent.contains(&format!("<string>{bin}</string>")) && agent.contains("<string>serve</string>"), "{agent}");
    let logs = format!("{}/Library/Logs/Fluxion/fluxion.log", home.path().display());
    assert!(agent.contains(&logs), "{agent}");
    let dir = tempfile::tempdir().expect("dir");
    let said = fluxion(&["service", "install", "--platform", "macos", "--dir", &dir.path().display().to_string()], home.path());
    assert!(said.contains("launchctl load -w"), "{said}");
    let plist = dir.path().join("it.fluxion.plist");
    assert_eq!(std::fs::read_to_string(&plist).expect("plist"), agent);
    // A real plist parser where one is at hand (Python's plistlib).
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import plistlib,sys; p=plistlib.load(open(sys.argv[1],'rb')); print(p['Label'], p['ProgramArguments'][1], p['ExitTimeOut'])",
        ])
        .arg(&plist)
        .output();
    match parsed {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let fields: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(&fields[..2], ["it.fluxion", "serve"]);
            assert!(fields[2].parse::<i64>().expect("seconds") * 1000 > DEFAULT_DRAIN_MS as i64, "launchd waits for the drain");
        }
        Ok(out) => panic!("the LaunchAgent is not a valid plist: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => eprintln!("python3 absent: the LaunchAgent is checked by its contents only"),
    }
    fluxion(&["service", "uninstall", "--platform", "macos", "--dir", &dir.path().display().to_string()], home.path());
    assert!(!plist.exists());
}
