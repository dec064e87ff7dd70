//! The plugin registry: validation on publish, content-addressed storage of
//! components on disk, a compiled-artifact cache, and version resolution.
//!
//! A version is identified by the `name` and `version` the component reports
//! in its own `info()`, and pinned by the SHA-256 of its bytes. Rooms hold an
//! `Arc<PluginVersion>`, so publishing a newer version never touches a room
//! that is already running; new rooms get the latest version unless they ask
//! for a specific one.
//!
//! An admin may yank a version ([`Registry::set_yanked`]): no new room starts
//! on it (asked for by version: `ResolveError::Yanked`; "latest" is then the
//! highest version not yanked), while rooms already on it keep their `Arc`
//! and finish, journal recovery finds it by hash, and its bytes stay stored
//! for replays. Un-yanking makes it available again.
//!
//! On disk (under `data_dir`): `plugins/<sha256>.wasm` (the published bytes),
//! `plugins/<sha256>.yanked` (present while that version is yanked: a small
//! JSON note for operators, `{name, version, yanked_at_ms}`; only its
//! presence counts), `plugins/<sha256>.memory` (the memory cap the publisher
//! declared for its rooms, in bytes, as text; absent: the server's default)
//! `plugins/<sha256>.ui.js` (the version's browser UI module, attached
//! once with [`Registry::attach_ui`] and never replaced: a room on a
//! version shows that version's UI), `plugins/<sha256>.ui/<file>` (its
//! static assets, [`Registry::attach_ui_asset`], each never replaced)
//! and `cache/<sha256>-<engine>.cwasm` (precompiled machine
//! code, keyed by the engine's compatibility hash so a changed engine config
//! never loads a stale artifact).

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use semver::Version;
use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::plugin_ui::{PluginUi, UiAsset, UiError};
use crate::sandbox::{LoadError, Plugin, SandboxEngine};

/// One published plugin version, ready to start rooms.
pub struct PluginVersion {
    pub name: String,
    pub version: Version,
    /// SHA-256 of the component bytes, lowercase hex.
    pub hash: String,
    pub size_bytes: usize,
    pub published_at_ms: u64,
    pub plugin: Plugin,
    /// No new rooms on this version (set and persisted by [`Registry::set_yanked`]).
    yanked: AtomicBool,
    /// Its browser UI, once attached ([`Registry::attach_ui`]).
    ui: OnceLock<Arc<PluginUi>>,
    /// The UI's static assets, by file name ([`Registry::attach_ui_asset`]).
    ui_assets: RwLock<BTreeMap<String, Arc<UiAsset>>>,
}

impl PluginVersion {
    pub fn is_yanked(&self) -> bool {
        self.yanked.load(Ordering::Acquire)
    }

    /// The browser UI module of this version, if one was attached.
    pub fn ui(&self) -> Option<&Arc<PluginUi>> {
        self.ui.get()
    }

    /// One static asset of this version's UI.
    pub fn ui_asset(&self, file: &str) -> Option<Arc<UiAsset>> {
        self.ui_assets.read().unwrap_or_else(|e| e.into_inner()).get(file).cloned()
    }

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
            memory_limit_bytes: self.plugin.memory_bytes(),
            yanked: self.is_yanked(),
            ui: self.ui().map(|ui| {
                let version = self.version.to_string();
                let assets = self.ui_assets.read().unwrap_or_else(|e| e.into_inner());
                UiSummary {
                    sha256: ui.sha256.clone(),
                    size_bytes: ui.size_bytes(),
                    url: ui_path(&self.name, &version),
                    assets: assets
                        .values()
                        .map(|asset| AssetSummary {
                            name: asset.name.clone(),
                            sha256: asset.sha256.clone(),
                            size_bytes: asset.bytes.len(),
                            url: ui_file_path(&self.name, &version, &asset.name),
                        })
                        .collect(),
                }
            }),
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
    /// The linear memory each of its rooms may use.
    pub memory_limit_bytes: usize,
    /// Yanked: no new rooms on it; live rooms and replays keep it.
    pub yanked: bool,
    /// Its browser UI module, if it has one (else clients show the JSON view).
    pub ui: Option<UiSummary>,
}

/// What the API shows about a version's UI module.
#[derive(Clone, Debug, Serialize)]
pub struct UiSummary {
    pub sha256: String,
    pub size_bytes: usize,
    /// Where it is served (`GET`), relative to the server.
    pub url: String,
    /// Its static assets.
    pub assets: Vec<AssetSummary>,
}

/// What the API shows about one asset of a UI.
#[derive(Clone, Debug, Serialize)]
pub struct AssetSummary {
    pub name: String,
    pub sha256: String,
    pub size_bytes: usize,
    pub url: String,
}

/// The path a file of a version's UI is served at (and uploaded to, `PUT`).
pub fn ui_file_path(name: &str, version: &str, file: &str) -> String {
    format!("/v1/plugins/{name}/versions/{version}/ui/{file}")
}

/// The path of a version's UI module (`ui/index.js`).
pub fn ui_path(name: &str, version: &str) -> String {
    ui_file_path(name, version, crate::plugin_ui::MODULE_FILE)
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{name}@{version} is already published with a different hash ({existing_hash}); bump the version")]
    VersionConflict { name: String, version: String, existing_hash: String },
    #[error("{name}@{version} is already published with a memory limit of {existing} bytes")]
    MemoryLimitConflict { name: String, version: String, existing: usize },
    #[error("storage error: {0}")]
    Storage(#[from] std::io::Error),
    /// The publisher may not publish this name (`Registry::publish_as`).
    #[error(transparent)]
    Refused(#[from] arcade_identity::AuthError),
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no plugin named {0:?}")]
    UnknownPlugin(String),
    #[error("{0} has no version {1:?}")]
    UnknownVersion(String, String),
    #[error("{name}@{version} is yanked: no new rooms start on it (pick another version, or none for the latest)")]
    Yanked { name: String, version: String },
    #[error("every version of {0:?} is yanked: no new rooms start on it")]
    AllYanked(String),
}

#[derive(Debug, thiserror::Error)]
pub enum AttachUiError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Invalid(#[from] UiError),
    #[error("{name}@{version} already has a different {file} ({existing_sha256}); publish a new version to change it")]
    Conflict { name: String, version: String, file: String, existing_sha256: String },
    #[error("storage error: {0}")]
    Storage(#[from] std::io::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum YankError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("storage error: {0}")]
    Storage(#[from] std::io::Error),
}

/// The result of a publish: the version, and whether it is new.
pub struct Published {
    pub version: Arc<PluginVersion>,
    pub created: bool,
}

pub struct Registry {
    runtime: Arc<SandboxEngine>,
    /// `None` keeps everything in memory (tests, `arcade play`).
    data_dir: Option<PathBuf>,
    engine_key: String,
    versions: RwLock<BTreeMap<String, BTreeMap<Version, Arc<PluginVersion>>>>,
}

impl Registry {
    /// Open the registry, loading every plugin already stored under `data_dir`.
    pub fn open(runtime: Arc<SandboxEngine>, data_dir: Option<&Path>) -> std::io::Result<Self> {
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
                let declared = match std::fs::read_to_string(path.with_extension("memory")) {
                    Ok(text) => text.trim().parse().ok(),
                    Err(_) => None,
                };
                if let Err(e) = registry.publish_as(&stored, declared, |_, _| Ok(())) {
                    tracing::warn!(path = %path.display(), error = %e, "stored plugin could not be loaded; skipped");
                }
            }
            for version in registry.versions.read().unwrap_or_else(|e| e.into_inner()).values().flat_map(|v| v.values())
            {
                let path = dir.join("plugins").join(format!("{}.ui.js", version.hash));
                match std::fs::read(&path) {
                    // Checked against the largest module ever accepted here.
                    Ok(bytes) => match crate::plugin_ui::check(&bytes, usize::MAX) {
                        Ok(ui) => {
                            let _ = version.ui.set(Arc::new(ui));
                        }
                        Err(e) => tracing::warn!(path = %path.display(), error = %e, "stored UI module skipped"),
                    },
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
                let assets_dir = dir.join("plugins").join(format!("{}.ui", version.hash));
                for (file, bytes) in asset_files(&assets_dir)? {
                    match crate::plugin_ui::check_asset(&file, &bytes) {
                        Ok(asset) => {
                            version.ui_assets.write().unwrap_or_else(|e| e.into_inner()).insert(file, Arc::new(asset));
                        }
                        Err(e) => tracing::warn!(dir = %assets_dir.display(), error = %e, "stored UI asset skipped"),
                    }
                }
            }
            for path in files_with_extension(&dir.join("plugins"), "yanked")? {
                let hash = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                match registry.find_by_hash(hash) {
                    Some(version) => version.yanked.store(true, Ordering::Release),
                    None => tracing::warn!(path = %path.display(), "yank marker of no stored plugin; ignored"),
                }
            }
        }
        Ok(registry)
    }

    pub fn runtime(&self) -> &Arc<SandboxEngine> {
        &self.runtime
    }

    /// Publish every `*.wasm` in `dir` (e.g. the example games at start-up),
    /// each with the UI module beside it (`X.ui.js` for `X.wasm`), if any.
    /// Returns how many versions are new.
    pub fn publish_dir(&self, dir: &Path) -> std::io::Result<usize> {
        let mut created = 0;
        for path in wasm_files(dir)? {
            let published = match self.publish(&std::fs::read(&path)?) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "plugin not loaded");
                    continue;
                }
            };
            created += usize::from(published.created);
            let version = &published.version;
            tracing::info!(plugin = %version.name, version = %version.version, hash = %version.hash, "plugin loaded");
            let ui_path = path.with_extension("ui.js");
            match std::fs::read(&ui_path) {
                Ok(source) => {
                    if let Err(e) = self.attach_ui(&version.name, &version.version.to_string(), &source, usize::MAX) {
                        tracing::error!(path = %ui_path.display(), error = %e, "UI module not attached");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let (name, number) = (&version.name, version.version.to_string());
            for (file, bytes) in asset_files(&path.with_extension("ui"))? {
                if let Err(e) = self.attach_ui_asset(name, &number, &file, &bytes, (usize::MAX, usize::MAX)) {
                    tracing::error!(path = %path.display(), file, error = %e, "UI asset not attached");
                }
            }
        }
        Ok(created)
    }

    /// Attaches a browser UI module (at most `max_bytes`) to `name@version`,
    /// stored before it is served. Attaching the same module again is
    /// harmless (`false`: nothing new); a different one is a conflict: a
    /// version's UI never changes, like its rules. Yanked versions take one
    /// too (their replays show it).
    pub fn attach_ui(
        &self,
        name: &str,
        version: &str,
        source: &[u8],
        max_bytes: usize,
    ) -> Result<(PluginSummary, bool), AttachUiError> {
        let ui = crate::plugin_ui::check(source, max_bytes)?;
        // The write lock orders attaching with other attaches and yanks.
        let versions = self.versions.write().unwrap_or_else(|e| e.into_inner());
        let found = exact_in(&versions, name, version)?;
        if let Some(existing) = found.ui() {
            if existing.sha256 == ui.sha256 {
                return Ok((found.summary(), false));
            }
            return Err(AttachUiError::Conflict {
                name: found.name.clone(),
                version: found.version.to_string(),
                file: crate::plugin_ui::MODULE_FILE.into(),
                existing_sha256: existing.sha256.clone(),
            });
        }
        if let Some(dir) = &self.data_dir {
            write_atomically(&dir.join("plugins").join(format!("{}.ui.js", found.hash)), source)?;
        }
        let _ = found.ui.set(Arc::new(ui));
        Ok((found.summary(), true))
    }

    /// Attaches a static asset `file` to `name@version`'s UI (its assets
    /// together at most `max_total_bytes`, at most `max_count` of them).
    /// Like the module: the same bytes again change nothing (`false`), other
    /// bytes under the same name are a conflict.
    pub fn attach_ui_asset(
        &self,
        name: &str,
        version: &str,
        file: &str,
        bytes: &[u8],
        (max_total_bytes, max_count): (usize, usize),
    ) -> Result<(PluginSummary, bool), AttachUiError> {
        let asset = crate::plugin_ui::check_asset(file, bytes)?;
        let versions = self.versions.write().unwrap_or_else(|e| e.into_inner());
        let found = exact_in(&versions, name, version)?;
        let mut assets = found.ui_assets.write().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = assets.get(file) {
            if existing.sha256 == asset.sha256 {
                drop(assets);
                return Ok((found.summary(), false));
            }
            return Err(AttachUiError::Conflict {
                name: found.name.clone(),
                version: found.version.to_string(),
                file: file.to_string(),
                existing_sha256: existing.sha256.clone(),
            });
        }
        if assets.len() >= max_count {
            return Err(UiError::TooManyAssets(max_count).into());
        }
        let total = assets.values().map(|a| a.bytes.len()).sum::<usize>() + bytes.len();
        if total > max_total_bytes {
            return Err(UiError::AssetsTooLarge { size: total, max: max_total_bytes }.into());
        }
        if let Some(dir) = &self.data_dir {
            let assets_dir = dir.join("plugins").join(format!("{}.ui", found.hash));
            std::fs::create_dir_all(&assets_dir)?;
            write_atomically(&assets_dir.join(file), bytes)?;
            sync_dir(&assets_dir)?;
        }
        assets.insert(file.to_string(), Arc::new(asset));
        drop(assets);
        Ok((found.summary(), true))
    }

    /// `name@version` exactly, yanked or not (a room on it, a replay of it).
    pub fn exact(&self, name: &str, version: &str) -> Result<Arc<PluginVersion>, ResolveError> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        exact_in(&versions, name, version)
    }

    /// Validate, store and register a component. Publishing the same bytes
    /// again is harmless (`created: false`); new bytes under an existing
    /// `name@version` are refused.
    pub fn publish(&self, wasm: &[u8]) -> Result<Published, PublishError> {
        self.publish_as(wasm, None, |_, _| Ok(()))
    }

    /// [`Registry::publish`] for a caller who may publish only some names:
    /// once the component's name is known (and before anything is kept),
    /// `authorize(name, whether the name has versions)` decides. Its rooms
    /// get `memory_bytes` of linear memory (`None`: the server's default).
    pub fn publish_as(
        &self,
        wasm: &[u8],
        memory_bytes: Option<usize>,
        authorize: impl FnOnce(&str, bool) -> Result<(), arcade_identity::AuthError>,
    ) -> Result<Published, PublishError> {
        if let Some(asked) = memory_bytes {
            self.runtime.check_memory_limit(asked)?;
        }
        let hash = sha256_hex(wasm);
        if let Some(existing) = self.find_by_hash(&hash) {
            authorize(&existing.name, true)?;
            let existing_memory = existing.plugin.memory_bytes();
            if memory_bytes.is_some_and(|asked| asked != existing_memory) {
                let (name, version) = (existing.name.clone(), existing.version.to_string());
                return Err(PublishError::MemoryLimitConflict { name, version, existing: existing_memory });
            }
            return Ok(Published { version: existing, created: false });
        }
        let component = self.load_component(wasm, &hash)?;
        let plugin = self.runtime.prepare_with_memory(&component, memory_bytes)?;
        let info = plugin.info();
        let version = Version::parse(&info.version).map_err(|e| LoadError::InvalidInfo(e.to_string()))?;
        let exists = self.versions.read().unwrap_or_else(|e| e.into_inner()).contains_key(&info.name);
        authorize(&info.name, exists)?;
        let entry = Arc::new(PluginVersion {
            name: info.name.clone(),
            version: version.clone(),
            hash: hash.clone(),
            size_bytes: wasm.len(),
            published_at_ms: now_ms(),
            plugin,
            yanked: AtomicBool::new(false),
            ui: OnceLock::new(),
            ui_assets: RwLock::default(),
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
            // The declaration first: a crash between the two leaves a note
            // of no plugin, never a plugin that lost its limit.
            if let Some(bytes) = memory_bytes {
                write_atomically(&dir.join("plugins").join(format!("{hash}.memory")), bytes.to_string().as_bytes())?;
            }
            write_atomically(&dir.join("plugins").join(format!("{hash}.wasm")), wasm)?;
        }
        by_version.insert(version, entry.clone());
        Ok(Published { version: entry, created: true })
    }

    /// Compile, or load the precompiled artifact from the disk cache.
    #[allow(unsafe_code)] // deserializing a compiled artifact: see the SAFETY note
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

    /// The version a new room starts on: `version` = `None` or `"latest"`
    /// picks the highest version not yanked; a yanked version is refused.
    /// (Rooms already running, journal recovery and replays find their
    /// version by hash, [`Registry::find_by_hash`], yanked or not.)
    pub fn resolve(&self, name: &str, version: Option<&str>) -> Result<Arc<PluginVersion>, ResolveError> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        let by_version = versions.get(name).ok_or_else(|| ResolveError::UnknownPlugin(name.to_string()))?;
        match version {
            None | Some("latest") => by_version
                .values()
                .rev()
                .find(|p| !p.is_yanked())
                .cloned()
                .ok_or_else(|| ResolveError::AllYanked(name.to_string())),
            Some(v) => {
                let found = lookup(by_version, name, v)?;
                if found.is_yanked() {
                    return Err(ResolveError::Yanked { name: name.to_string(), version: found.version.to_string() });
                }
                Ok(found)
            }
        }
    }

    /// Yanks (`yanked`) or un-yanks `name@version`, persisting it before it
    /// takes effect. Returns the version as it is now, and whether this
    /// changed it (yanking a yanked version is a no-op). Rooms already on
    /// the version are untouched.
    pub fn set_yanked(&self, name: &str, version: &str, yanked: bool) -> Result<(PluginSummary, bool), YankError> {
        // The write lock orders this with publishes and other yanks.
        let versions = self.versions.write().unwrap_or_else(|e| e.into_inner());
        let found = exact_in(&versions, name, version)?;
        if found.is_yanked() == yanked {
            return Ok((found.summary(), false));
        }
        if let Some(dir) = &self.data_dir {
            let plugins = dir.join("plugins");
            let marker = plugins.join(format!("{}.yanked", found.hash));
            if yanked {
                let note = serde_json::json!({
                    "name": found.name,
                    "version": found.version.to_string(),
                    "yanked_at_ms": now_ms(),
                });
                write_atomically(&marker, note.to_string().as_bytes())?;
            } else {
                match std::fs::remove_file(&marker) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
            sync_dir(&plugins)?;
        }
        found.yanked.store(yanked, Ordering::Release);
        Ok((found.summary(), true))
    }

    /// Every version of one plugin (yanked ones too), oldest first.
    pub fn versions(&self, name: &str) -> Result<Vec<PluginSummary>, ResolveError> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        let by_version = versions.get(name).ok_or_else(|| ResolveError::UnknownPlugin(name.to_string()))?;
        Ok(by_version.values().map(|p| p.summary()).collect())
    }

    /// Every version of every plugin (yanked ones too), by name then version.
    pub fn list(&self) -> Vec<PluginSummary> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        versions.values().flat_map(|v| v.values()).map(|p| p.summary()).collect()
    }
}

/// `version` (exact semver) of plugin `name` among `versions`, yanked or not.
fn exact_in(
    versions: &BTreeMap<String, BTreeMap<Version, Arc<PluginVersion>>>,
    name: &str,
    version: &str,
) -> Result<Arc<PluginVersion>, ResolveError> {
    let by_version = versions.get(name).ok_or_else(|| ResolveError::UnknownPlugin(name.to_string()))?;
    lookup(by_version, name, version)
}

/// `version` (exact semver) among the versions of plugin `name`, yanked or not.
fn lookup(
    by_version: &BTreeMap<Version, Arc<PluginVersion>>,
    name: &str,
    version: &str,
) -> Result<Arc<PluginVersion>, ResolveError> {
    let unknown = || ResolveError::UnknownVersion(name.to_string(), version.to_string());
    let parsed = Version::parse(version).map_err(|_| unknown())?;
    by_version.get(&parsed).cloned().ok_or_else(unknown)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The files of a UI's asset directory (`X.ui/` beside `X.wasm`, or
/// `plugins/<hash>.ui/`), by name; none when it does not exist.
fn asset_files(dir: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if path.is_file() && !name.ends_with(".tmp") {
            files.push((name, std::fs::read(&path)?));
        }
    }
    files.sort();
    Ok(files)
}

fn wasm_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_with_extension(dir, "wasm")
}

fn files_with_extension(dir: &Path, extension: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    Ok(files)
}

/// Makes a rename or removal in `dir` durable (a yank must survive a crash).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A plugin `arcade-test-plugins` built (`examples/…` or `fixtures/…`).
    fn built_plugin(path: &str) -> Vec<u8> {
        let path = arcade_test_plugins::plugins_dir().join(path);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn runtime() -> Arc<SandboxEngine> {
        Arc::new(SandboxEngine::new(Default::default()).expect("a sandbox runtime"))
    }

    /// A registry with tic-tac-toe 1.0.0 and 2.0.0 published.
    fn two_versions(data_dir: Option<&Path>) -> (Registry, Arc<PluginVersion>, Arc<PluginVersion>) {
        let registry = Registry::open(runtime(), data_dir).expect("opening the registry");
        let v1 = registry.publish(&built_plugin("examples/tic-tac-toe.wasm")).expect("publishing 1.0.0").version;
        let v2 = registry.publish(&built_plugin("fixtures/tic-tac-toe-v2.wasm")).expect("publishing 2.0.0").version;
        assert_eq!((v1.version.to_string(), v2.version.to_string()), ("1.0.0".into(), "2.0.0".into()));
        (registry, v1, v2)
    }

    fn yanked_flags(registry: &Registry) -> Vec<(String, bool)> {
        registry.list().into_iter().map(|p| (p.version, p.yanked)).collect()
    }

    #[test]
    fn a_yanked_version_starts_no_new_rooms_and_latest_skips_it() {
        let (registry, v1, v2) = two_versions(None);
        assert_eq!(registry.resolve("tic-tac-toe", None).unwrap().hash, v2.hash);

        let (summary, changed) = registry.set_yanked("tic-tac-toe", "2.0.0", true).unwrap();
        assert!(changed && summary.yanked, "{summary:?}");
        assert!(v2.is_yanked(), "a room holding 2.0.0 sees it yanked (and keeps running on it)");
        for latest in [None, Some("latest")] {
            assert_eq!(registry.resolve("tic-tac-toe", latest).unwrap().hash, v1.hash, "{latest:?}");
        }
        assert!(matches!(
            registry.resolve("tic-tac-toe", Some("2.0.0")),
            Err(ResolveError::Yanked { name, version }) if name == "tic-tac-toe" && version == "2.0.0"
        ));
        assert_eq!(registry.resolve("tic-tac-toe", Some("1.0.0")).unwrap().hash, v1.hash);
        // Replays and journal recovery still find it by its bytes.
        assert!(registry.find_by_hash(&v2.hash).is_some_and(|p| p.is_yanked()));
        assert_eq!(yanked_flags(&registry), [("1.0.0".into(), false), ("2.0.0".into(), true)]);
        let versions = registry.versions("tic-tac-toe").unwrap();
        assert_eq!(versions.iter().map(|p| p.yanked).collect::<Vec<_>>(), [false, true]);

        // Yanking again changes nothing.
        let (summary, changed) = registry.set_yanked("tic-tac-toe", "2.0.0", true).unwrap();
        assert!(!changed && summary.yanked);

        // Every version yanked: no new room, whatever is asked.
        registry.set_yanked("tic-tac-toe", "1.0.0", true).unwrap();
        assert!(matches!(registry.resolve("tic-tac-toe", None), Err(ResolveError::AllYanked(n)) if n == "tic-tac-toe"));
        assert!(matches!(registry.resolve("tic-tac-toe", Some("1.0.0")), Err(ResolveError::Yanked { .. })));
        assert_eq!(registry.versions("tic-tac-toe").unwrap().len(), 2, "yanked versions are still listed");

        // Un-yanked, 2.0.0 is the latest again.
        let (summary, changed) = registry.set_yanked("tic-tac-toe", "2.0.0", false).unwrap();
        assert!(changed && !summary.yanked);
        assert_eq!(registry.resolve("tic-tac-toe", None).unwrap().hash, v2.hash);

        // Re-publishing yanked bytes does not un-yank them.
        let again = registry.publish(&built_plugin("examples/tic-tac-toe.wasm")).unwrap();
        assert!(!again.created && again.version.summary().yanked);
    }

    #[test]
    fn yanking_an_unknown_plugin_or_version_is_an_error() {
        let (registry, _, _) = two_versions(None);
        for (name, version) in [("chess", "1.0.0"), ("tic-tac-toe", "3.0.0"), ("tic-tac-toe", "latest")] {
            let refused = registry.set_yanked(name, version, true);
            assert!(
                matches!(
                    refused,
                    Err(YankError::Resolve(ResolveError::UnknownPlugin(_) | ResolveError::UnknownVersion(..)))
                ),
                "{name}@{version}: {refused:?}"
            );
        }
        assert_eq!(yanked_flags(&registry), [("1.0.0".into(), false), ("2.0.0".into(), false)]);
    }

    #[test]
    fn a_yank_survives_reopening_the_data_dir_and_so_does_an_unyank() {
        let dir = tempfile::tempdir().unwrap();
        let (registry, _, v2) = two_versions(Some(dir.path()));
        registry.set_yanked("tic-tac-toe", "2.0.0", true).unwrap();
        let marker = dir.path().join("plugins").join(format!("{}.yanked", v2.hash));
        let note: serde_json::Value = serde_json::from_slice(&std::fs::read(&marker).unwrap()).unwrap();
        assert_eq!((&note["name"], &note["version"]), (&serde_json::json!("tic-tac-toe"), &serde_json::json!("2.0.0")));
        drop(registry);

        let reopened = Registry::open(runtime(), Some(dir.path())).unwrap();
        assert_eq!(yanked_flags(&reopened), [("1.0.0".into(), false), ("2.0.0".into(), true)]);
        assert_eq!(reopened.resolve("tic-tac-toe", None).unwrap().version.to_string(), "1.0.0");
        assert!(reopened.find_by_hash(&v2.hash).is_some(), "the yanked bytes stay stored for replays");

        reopened.set_yanked("tic-tac-toe", "2.0.0", false).unwrap();
        assert!(!marker.exists());
        drop(reopened);
        let reopened = Registry::open(runtime(), Some(dir.path())).unwrap();
        assert_eq!(yanked_flags(&reopened), [("1.0.0".into(), false), ("2.0.0".into(), false)]);
    }

    #[test]
    fn a_declared_memory_limit_is_checked_kept_with_the_version_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(runtime(), Some(dir.path())).unwrap();
        let (ttt, v2) = (built_plugin("examples/tic-tac-toe.wasm"), built_plugin("fixtures/tic-tac-toe-v2.wasm"));
        let too_much = registry.publish_as(&ttt, Some((64 << 20) + 1), |_, _| Ok(()));
        assert!(matches!(too_much, Err(PublishError::Load(LoadError::MemoryLimitTooLarge { .. }))));
        assert!(registry.list().is_empty(), "nothing kept");

        let declared = registry.publish_as(&ttt, Some(40 << 20), |_, _| Ok(())).unwrap().version;
        assert_eq!((declared.plugin.memory_bytes(), declared.summary().memory_limit_bytes), (40 << 20, 40 << 20));
        let default = registry.publish(&v2).unwrap().version;
        assert_eq!(default.plugin.memory_bytes(), 16 << 20, "the server's default");
        // The same bytes again: without a declaration, or with the same one, it is
        // the same version; with another, a conflict.
        assert!(!registry.publish(&ttt).unwrap().created);
        assert!(!registry.publish_as(&ttt, Some(40 << 20), |_, _| Ok(())).unwrap().created);
        let other = registry.publish_as(&ttt, Some(32 << 20), |_, _| Ok(()));
        assert!(matches!(other, Err(PublishError::MemoryLimitConflict { existing, .. }) if existing == 40 << 20));
        drop(registry);

        let reopened = Registry::open(runtime(), Some(dir.path())).unwrap();
        let memory = |version: &str| reopened.resolve("tic-tac-toe", Some(version)).unwrap().plugin.memory_bytes();
        assert_eq!((memory("1.0.0"), memory("2.0.0")), (40 << 20, 16 << 20));
    }
}
