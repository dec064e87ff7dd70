//! The plugin registry: validation on publish, content-addressed storage of
//! components on disk, a compiled-artifact cache, and version resolution.
//!
//! A version is identified by the `name` and `version` the component reports
//! in its own `info()`, and pinned by the SHA-256 of its bytes. Rooms hold an
//! `Arc<PluginVersion>`, so publishing a newer version never touches a room
//! that is already running; new rooms get the latest version unless they ask
//! for a specific one.
//!
//! On disk (under `data_dir`): `plugins/<sha256>.wasm` (the published bytes)
//! and `cache/<sha256>-<engine>.cwasm` (precompiled machine code, keyed by the
//! engine's compatibility hash so a changed engine config never loads a stale
//! artifact).

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use semver::Version;
use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::sandbox::{LoadError, Plugin, Runtime};

/// One published plugin version, ready to start rooms.
pub struct PluginVersion {
    pub name: String,
    pub version: Version,
    /// SHA-256 of the component bytes, lowercase hex.
    pub hash: String,
    pub size_bytes: usize,
    pub published_at_ms: u64,
    pub plugin: Plugin,
}

impl PluginVersion {
    pub fn summary(&self) -> PluginSummary {
        let info = self.plugin.info();
        PluginSummary {
            name: self.name.clone(),
            version: self.version.to_string(),
            hash: self.hash.clone(),
            description: info.description.clone(),
            min_players: info.min_players,
            max_players: info.max_players,
            tick_hz: info.tick_hz,
            size_bytes: self.size_bytes,
            published_at_ms: self.published_at_ms,
        }
    }
}

/// What the API shows about a plugin version.
#[derive(Clone, Debug, Serialize)]
pub struct PluginSummary {
    pub name: String,
    pub version: String,
    pub hash: String,
    pub description: String,
    pub min_players: u32,
    pub max_players: u32,
    pub tick_hz: u32,
    pub size_bytes: usize,
    pub published_at_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{name}@{version} is already published with a different hash ({existing_hash}); bump the version")]
    VersionConflict { name: String, version: String, existing_hash: String },
    #[error("storage error: {0}")]
    Storage(#[from] std::io::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no plugin named {0:?}")]
    UnknownPlugin(String),
    #[error("{0} has no version {1:?}")]
    UnknownVersion(String, String),
}

/// The result of a publish: the version, and whether it is new.
pub struct Published {
    pub version: Arc<PluginVersion>,
    pub created: bool,
}

pub struct Registry {
    runtime: Arc<Runtime>,
    /// `None` keeps everything in memory (tests, `arcade play`).
    data_dir: Option<PathBuf>,
    engine_key: String,
    versions: RwLock<BTreeMap<String, BTreeMap<Version, Arc<PluginVersion>>>>,
}

impl Registry {
    /// Open the registry, loading every plugin already stored under `data_dir`.
    pub fn open(runtime: Arc<Runtime>, data_dir: Option<&Path>) -> std::io::Result<Self> {
        let mut hasher = DefaultHasher::new();
        runtime.engine().precompile_compatibility_hash().hash(&mut hasher);
        let registry = Registry {
            runtime,
            data_dir: data_dir.map(Path::to_path_buf),
            engine_key: format!("{:016x}", hasher.finish()),
            versions: RwLock::default(),
        };
        if let Some(dir) = &registry.data_dir {
            std::fs::create_dir_all(dir.join("plugins"))?;
            std::fs::create_dir_all(dir.join("cache"))?;
            for path in wasm_files(&dir.join("plugins"))? {
                let stored = std::fs::read(&path)?;
                let hash = sha256_hex(&stored);
                if path.file_stem().and_then(|s| s.to_str()) != Some(hash.as_str()) {
                    tracing::warn!(path = %path.display(), "stored plugin does not match its hash; skipped");
                    continue;
                }
                if let Err(e) = registry.publish(&stored) {
                    tracing::warn!(path = %path.display(), error = %e, "stored plugin could not be loaded; skipped");
                }
            }
        }
        Ok(registry)
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Publish every `*.wasm` in `dir` (e.g. the example games at start-up).
    /// Returns how many versions are new.
    pub fn publish_dir(&self, dir: &Path) -> std::io::Result<usize> {
        let mut created = 0;
        for path in wasm_files(dir)? {
            match self.publish(&std::fs::read(&path)?) {
                Ok(p) => {
                    created += usize::from(p.created);
                    tracing::info!(plugin = %p.version.name, version = %p.version.version, hash = %p.version.hash, "plugin loaded");
                }
                Err(e) => tracing::error!(path = %path.display(), error = %e, "plugin not loaded"),
            }
        }
        Ok(created)
    }

    /// Validate, store and register a component. Publishing the same bytes
    /// again is harmless (`created: false`); new bytes under an existing
    /// `name@version` are refused.
    pub fn publish(&self, wasm: &[u8]) -> Result<Published, PublishError> {
        let hash = sha256_hex(wasm);
        if let Some(existing) = self.find_by_hash(&hash) {
            return Ok(Published { version: existing, created: false });
        }
        let component = self.load_component(wasm, &hash)?;
        let plugin = self.runtime.prepare(&component)?;
        let info = plugin.info();
        let version = Version::parse(&info.version).map_err(|e| LoadError::InvalidInfo(e.to_string()))?;
        let entry = Arc::new(PluginVersion {
            name: info.name.clone(),
            version: version.clone(),
            hash: hash.clone(),
            size_bytes: wasm.len(),
            published_at_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
            plugin,
        });

        let mut versions = self.versions.write().unwrap_or_else(|e| e.into_inner());
        let by_version = versions.entry(entry.name.clone()).or_default();
        if let Some(existing) = by_version.get(&version) {
            if existing.hash == hash {
                return Ok(Published { version: existing.clone(), created: false });
            }
            return Err(PublishError::VersionConflict {
                name: entry.name.clone(),
                version: version.to_string(),
                existing_hash: existing.hash.clone(),
            });
        }
        if let Some(dir) = &self.data_dir {
            write_atomically(&dir.join("plugins").join(format!("{hash}.wasm")), wasm)?;
        }
        by_version.insert(version, entry.clone());
        Ok(Published { version: entry, created: true })
    }

    /// Compile, or load the precompiled artifact from the disk cache.
    fn load_component(&self, wasm: &[u8], hash: &str) -> Result<Component, LoadError> {
        let Some(dir) = &self.data_dir else {
            return self.runtime.compile(wasm);
        };
        let cached = dir.join("cache").join(format!("{hash}-{}.cwasm", self.engine_key));
        if cached.exists() {
            // SAFETY: the file was written below by `precompile_component` of an
            // engine with the same compatibility hash (it is in the file name),
            // and `deserialize_file` still checks the header and rejects mismatches.
            match unsafe { Component::deserialize_file(self.runtime.engine(), &cached) } {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!(error = %e, "stale compiled artifact; recompiling"),
            }
        }
        let component = self.runtime.compile(wasm)?;
        match component.serialize() {
            Ok(bytes) => {
                if let Err(e) = write_atomically(&cached, &bytes) {
                    tracing::warn!(error = %e, "could not write the compiled-artifact cache");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not serialize the compiled component"),
        }
        Ok(component)
    }

    /// The version with these exact bytes (SHA-256, hex).
    pub fn find_by_hash(&self, hash: &str) -> Option<Arc<PluginVersion>> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        versions.values().flat_map(|v| v.values()).find(|p| p.hash == hash).cloned()
    }

    /// `version` = `None` or `"latest"` picks the highest version.
    pub fn resolve(&self, name: &str, version: Option<&str>) -> Result<Arc<PluginVersion>, ResolveError> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        let by_version = versions.get(name).ok_or_else(|| ResolveError::UnknownPlugin(name.to_string()))?;
        let unknown = || ResolveError::UnknownVersion(name.to_string(), version.unwrap_or_default().to_string());
        match version {
            None | Some("latest") => by_version.values().next_back().cloned().ok_or_else(unknown),
            Some(v) => {
                let v = Version::parse(v).map_err(|_| unknown())?;
                by_version.get(&v).cloned().ok_or_else(unknown)
            }
        }
    }

    /// Every version of every plugin, by name then version.
    pub fn list(&self) -> Vec<PluginSummary> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        versions.values().flat_map(|v| v.values()).map(|p| p.summary()).collect()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn wasm_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

/// Write to a temporary sibling, fsync, then rename: never a torn file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
