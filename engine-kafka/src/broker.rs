//! The project's local Kafka broker: librdkafka's mock cluster hosted in its own background
//! process, managed through a state file and a small control port.
//!
//! `cargo xtask broker start|stop|status|create-topic` and the integration tests use this
//! module through the `sstream-broker` binary:
//!
//! - `sstream-broker start` spawns `sstream-broker serve` detached (its own process group, output
//!   to `broker.log` in the state directory), waits until the broker answers a metadata
//!   request and prints `127.0.0.1:PORT` as its last stdout line. If a broker described by the
//!   state file still answers, it is reused instead.
//! - `serve` owns the [`EmbeddedBroker`]; besides the Kafka port it listens on a second
//!   127.0.0.1 port for one-line commands (`PING`, `CREATE <topic> <partitions>`,
//!   `DELETE <topic>` (metadata only: see [`EmbeddedBroker::delete_topic`]), `STOP`),
//!   because topics on the mock broker can only be created through the cluster handle that
//!   lives in that process (its CreateTopics API times out). Producing to an unknown topic
//!   auto-creates it with 4 partitions (librdkafka's mock default).
//! - The state file `broker.json` (pid, bootstrap and control addresses) lives in
//!   `$SSTREAM_BROKER_DIR`, default `<tmp>/sstream-broker`, so every worktree and test binary
//!   on the machine finds the same broker.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use engine_core::{EngineError, Result};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde::{Deserialize, Serialize};

use crate::testing::EmbeddedBroker;

/// Environment variable naming the broker's state directory.
pub const STATE_DIR_ENV: &str = "SSTREAM_BROKER_DIR";

const STATE_FILE: &str = "broker.json";
const LOCK_FILE: &str = "broker.lock";
const LOG_FILE: &str = "broker.log";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// What the state file says about a running broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerInfo {
    /// Process id of the `serve` process.
    pub pid: u32,
    /// Kafka bootstrap address, `127.0.0.1:PORT`.
    pub bootstrap: String,
    /// Control address (`127.0.0.1:PORT`) of the line protocol.
    pub control: String,
}

impl BrokerInfo {
    /// Creates `topic` with `partitions` partitions on this broker. Creating a topic that
    /// already exists is not an error (idempotent), so tests and scripts can call it freely.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        if topic.is_empty() || topic.chars().any(char::is_whitespace) {
            return Err(EngineError::invalid_option(
                "topic",
                format!("'{topic}' is not a valid topic name (empty or contains whitespace)"),
            ));
        }
        let reply = control_request(&self.control, &format!("CREATE {topic} {partitions}"))?;
        expect_ok(&reply, "creating a topic").map(|_| ())
    }

    /// Makes `topic` look deleted (see [`EmbeddedBroker::delete_topic`]: the mock cluster
    /// only answers metadata for it as for a deleted topic).
    pub fn delete_topic(&self, topic: &str) -> Result<()> {
        let reply = control_request(&self.control, &format!("DELETE {topic}"))?;
        expect_ok(&reply, "deleting a topic").map(|_| ())
    }

    /// Whether the broker's control port answers.
    pub fn is_alive(&self) -> bool {
        control_request(&self.control, "PING").is_ok_and(|r| r.starts_with("OK"))
    }
}

/// The state directory: `$SSTREAM_BROKER_DIR`, default `<tmp>/sstream-broker`.
pub fn default_state_dir() -> PathBuf {
    std::env::var_os(STATE_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("sstream-broker"))
}

/// The running broker described by the state file in `dir`, if it still answers.
pub fn status(dir: &Path) -> Result<Option<BrokerInfo>> {
    let path = dir.join(STATE_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::io(format!("reading {}", path.display()), e)),
    };
    let info: BrokerInfo = match serde_json::from_str(&text) {
        Ok(i) => i,
        // A torn or foreign file: treat as no broker; `start` overwrites it.
        Err(_) => return Ok(None),
    };
    Ok(info.is_alive().then_some(info))
}

/// Starts the broker (or reuses the running one) and returns it once it answers a metadata
/// request. `serve_binary` is the `sstream-broker` executable, spawned as
/// `serve_binary serve --dir <dir> --brokers <brokers>`.
pub fn start(serve_binary: &Path, dir: &Path, brokers: i32) -> Result<(BrokerInfo, bool)> {
    fs::create_dir_all(dir)
        .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
    // Two concurrent starts (parallel test binaries) must not both spawn a broker.
    let _lock = StartLock::acquire(&dir.join(LOCK_FILE))?;
    start_locked(serve_binary, dir, brokers)
}

/// An exclusive lock file (created with `create_new`), removed on drop. A lock older than any
/// start can take is left over from a killed process and is broken. (`File::lock` would do, but
/// is newer than the workspace's MSRV.)
struct StartLock(PathBuf);

impl StartLock {
    fn acquire(path: &Path) -> Result<Self> {
        let stale_after = START_TIMEOUT + IO_TIMEOUT * 2;
        let deadline = Instant::now() + stale_after * 2;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => return Ok(StartLock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > stale_after);
                    if stale {
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if Instant::now() > deadline {
                        return Err(EngineError::execution(
                            "KAFKA_BROKER_START",
                            format!("timed out waiting for the start lock {}", path.display()),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(EngineError::io(format!("creating {}", path.display()), e)),
            }
        }
    }
}

impl Drop for StartLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn start_locked(serve_binary: &Path, dir: &Path, brokers: i32) -> Result<(BrokerInfo, bool)> {
    if let Some(info) = status(dir)? {
        wait_for_metadata(&info.bootstrap)?;
        return Ok((info, true));
    }
    let state = dir.join(STATE_FILE);
    // A stale file from a dead broker would be mistaken for the new one's.
    let _ = fs::remove_file(&state);
    let log_path = dir.join(LOG_FILE);
    let log = File::create(&log_path)
        .map_err(|e| EngineError::io(format!("creating {}", log_path.display()), e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| EngineError::io(format!("opening {}", log_path.display()), e))?;
    let mut cmd = Command::new(serve_binary);
    cmd.arg("serve")
        .arg("--dir")
        .arg(dir)
        .arg("--brokers")
        .arg(brokers.to_string())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    // Own process group: Ctrl-C in the terminal that ran `start` must not stop the broker.
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| EngineError::io(format!("starting {} serve", serve_binary.display()), e))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(info) = status(dir)? {
            wait_for_metadata(&info.bootstrap)?;
            return Ok((info, false));
        }
        if let Ok(Some(exit)) = child.try_wait() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(EngineError::execution(
                "KAFKA_BROKER_START",
                format!("the broker process exited with {exit} before it was ready:\n{log}"),
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(EngineError::execution(
                "KAFKA_BROKER_START",
                format!(
                    "the broker did not become ready within {}s (log: {})",
                    START_TIMEOUT.as_secs(),
                    log_path.display()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the running broker, if any; returns whether one was running.
pub fn stop(dir: &Path) -> Result<bool> {
    let Some(info) = status(dir)? else {
        let _ = fs::remove_file(dir.join(STATE_FILE));
        return Ok(false);
    };
    let _ = control_request(&info.control, "STOP");
    let deadline = Instant::now() + IO_TIMEOUT;
    while process_alive(info.pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = fs::remove_file(dir.join(STATE_FILE));
    Ok(true)
}

fn process_alive(pid: u32) -> bool {
    // Linux-only check; elsewhere assume it stopped once it acknowledged STOP.
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !Path::new("/proc").exists() {
        return false;
    }
    match fs::read_to_string(proc_dir.join("stat")) {
        // A zombie (state Z) has exited; it only waits for its parent to reap it.
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits until a Kafka client can fetch cluster metadata from `bootstrap`.
pub fn wait_for_metadata(bootstrap: &str) -> Result<()> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("log_level", "3")
        .create()
        .map_err(|e| EngineError::external("creating a metadata client", e))?;
    consumer
        .fetch_metadata(None, START_TIMEOUT)
        .map(|_| ())
        .map_err(|e| EngineError::external(format!("fetching metadata from {bootstrap}"), e))
}

fn control_request(addr: &str, line: &str) -> Result<String> {
    let ctx = || format!("talking to the broker's control port {addr}");
    let mut stream = TcpStream::connect(addr).map_err(|e| EngineError::io(ctx(), e))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .and_then(|_| writeln!(stream, "{line}"))
        .map_err(|e| EngineError::io(ctx(), e))?;
    let mut reply = String::new();
    BufReader::new(&stream)
        .read_line(&mut reply)
        .map_err(|e| EngineError::io(ctx(), e))?;
    Ok(reply.trim_end().to_string())
}

fn expect_ok<'a>(reply: &'a str, what: &str) -> Result<&'a str> {
    if let Some(rest) = reply.strip_prefix("OK") {
        Ok(rest.trim())
    } else {
        Err(EngineError::execution(
            "KAFKA_BROKER_CONTROL",
            format!(
                "{what}: {}",
                reply.strip_prefix("ERR ").unwrap_or(if reply.is_empty() {
                    "no reply"
                } else {
                    reply
                })
            ),
        ))
    }
}

/// Runs the broker in this process until a `STOP` command arrives: starts `brokers` mock brokers,
/// binds the control port, writes the state file in `dir` and serves control requests.
pub fn serve(dir: &Path, brokers: i32) -> Result<()> {
    fs::create_dir_all(dir)
        .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
    let broker = Arc::new(EmbeddedBroker::with_brokers(brokers)?);
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| EngineError::io("binding the control port", e))?;
    let control = listener
        .local_addr()
        .map_err(|e| EngineError::io("reading the control port", e))?
        .to_string();
    let info = BrokerInfo {
        pid: std::process::id(),
        bootstrap: broker.bootstrap_servers(),
        control,
    };
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    {
        let broker = Arc::clone(&broker);
        let bootstrap = info.bootstrap.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let broker = Arc::clone(&broker);
                let bootstrap = bootstrap.clone();
                let stop_tx = stop_tx.clone();
                std::thread::spawn(move || handle_control(conn, &broker, &bootstrap, &stop_tx));
            }
        });
    }
    write_state(dir, &info)?;
    eprintln!(
        "sstream-broker: serving {} (control {})",
        info.bootstrap, info.control
    );
    // Any message, or every sender gone, means stop.
    let _ = stop_rx.recv();
    // Only remove the state file if it is still ours (a newer broker may have replaced it).
    if let Ok(text) = fs::read_to_string(dir.join(STATE_FILE))
        && serde_json::from_str::<BrokerInfo>(&text).is_ok_and(|i| i == info)
    {
        let _ = fs::remove_file(dir.join(STATE_FILE));
    }
    eprintln!("sstream-broker: stopped");
    Ok(())
}

fn write_state(dir: &Path, info: &BrokerInfo) -> Result<()> {
    let tmp = dir.join(format!("{STATE_FILE}.{}", std::process::id()));
    let text = serde_json::to_string(info)
        .map_err(|e| EngineError::external("encoding the broker state", e))?;
    fs::write(&tmp, text).map_err(|e| EngineError::io(format!("writing {}", tmp.display()), e))?;
    // Rename is atomic: readers never see half a file.
    fs::rename(&tmp, dir.join(STATE_FILE))
        .map_err(|e| EngineError::io(format!("renaming {}", tmp.display()), e))
}

fn handle_control(
    conn: TcpStream,
    broker: &EmbeddedBroker,
    bootstrap: &str,
    stop_tx: &mpsc::Sender<()>,
) {
    let _ = conn.set_read_timeout(Some(IO_TIMEOUT));
    let mut line = String::new();
    let Ok(reader_conn) = conn.try_clone() else {
        return;
    };
    if BufReader::new(reader_conn).read_line(&mut line).is_err() {
        return;
    }
    let mut words = line.split_whitespace();
    let (reply, stop) = match (words.next(), words.next(), words.next()) {
        (Some("PING"), _, _) => (format!("OK {bootstrap}"), false),
        (Some("CREATE"), Some(topic), Some(n)) => match n.parse::<i32>() {
            Ok(n) => match broker.create_topic(topic, n) {
                Ok(()) => ("OK created".to_string(), false),
                Err(e) if e.error_class() == Some("KAFKA_TOPIC_ALREADY_EXISTS") => {
                    ("OK exists".to_string(), false)
                }
                Err(e) => (format!("ERR {e}"), false),
            },
            Err(_) => (
                format!("ERR partitions must be an integer, got '{n}'"),
                false,
            ),
        },
        (Some("DELETE"), Some(topic), _) => match broker.delete_topic(topic) {
            Ok(()) => ("OK deleted".to_string(), false),
            Err(e) => (format!("ERR {e}"), false),
        },
        (Some("STOP"), _, _) => ("OK stopping".to_string(), true),
        _ => (format!("ERR unknown command '{}'", line.trim()), false),
    };
    let mut conn = conn;
    let _ = writeln!(conn, "{reply}");
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Write);
    if stop {
        let _ = stop_tx.send(());
    }
}
