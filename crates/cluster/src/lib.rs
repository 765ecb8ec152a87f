//! Scale-out: a task queue in the catalog database and the worker loop that several server nodes run against it.
//!
//! # Model
//! Nodes share one catalog database (PostgreSQL) and one repository (an S3 bucket). Work such as "back up
//! organization X" is a row of `cluster_tasks` ([`TaskQueue::enqueue`]). Every node runs [`run_worker`], which
//! claims one task at a time ([`TaskQueue::claim`]: `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
//! claimers never wait on nor double-claim a row; SQLite serialises writers instead), refreshes the task's
//! heartbeat while working ([`TaskQueue::heartbeat`]) and records the outcome ([`TaskQueue::complete`] /
//! [`TaskQueue::fail`]).
//!
//! # Takeover
//! A running task whose heartbeat is older than `stale_after` belongs to a node that died (or lost the database):
//! the next claim takes it over, with its attempt counter increased ([`ClaimedTask::previous_node`] names the dead
//! node). A node that comes back and finds its task taken over (heartbeat or completion refused:
//! [`QueueError::Lost`]) abandons its work. A task abandoned `max_attempts` times is failed instead of claimed again,
//! so a task that kills its worker cannot take the whole cluster down one node after the other.
//!
//! # Deduplication
//! A task may carry a `dedup_key` (for backups: the organization id): while one task with that key is queued or
//! running, enqueueing another returns the existing one. Two backups of one organization never run at once.
//!
//! # Schedules
//! Every node also runs the [`Scheduler`]: due scheduled runs of the jobs become backup tasks, each exactly once
//! across the cluster (a compare-and-set on the job's next run instant decides which node enqueues it).

mod queue;
mod scheduler;
mod worker;

pub use queue::{ClaimedTask, NewTask, QueueError, Task, TaskQueue, TaskStatus};
pub use scheduler::{backup_task, Scheduler, Started, BACKUP_TASK};
pub use worker::{run_worker, WorkerOptions};
