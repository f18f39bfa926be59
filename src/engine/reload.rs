//! A new dialplan and its prompts put in force while calls go on (SIGHUP or the admin API).
//!
//! The shell reads, checks and decodes everything first (a broken file never reaches the
//! core) and then calls [`Engine::replace_dialplan`]. What the swap means:
//! - New calls follow the new dialplan from their INVITE on.
//! - A call in progress finishes under the dialplan and prompts it started with, wherever it
//!   is (greeting, menu, queue, operator, transfer): a caller never hears half of one flow
//!   and half of another, and its prompt ids stay valid (the shell keeps the old audio).
//! - Queues are matched by name ([`super::queues::Queues::reload`]): a kept queue keeps its
//!   waiting callers in their order and takes the new settings (ring timeout, wrap-up,
//!   strategy …) for what happens next; a new queue is added; a removed queue is retired: its
//!   callers wait on and its members still serve them, and it leaves the board once empty.
//! - Operators' memberships of the new dialplan's queues are set again from its member
//!   lists (tier, penalty; agents join queues without a list). An operator ringing for a
//!   queue they are no longer a member of has that ring cancelled and the caller moves on.
//!
//! ```text
//!   shell: Dialplan::load → PromptCache::load → cache.reloaded(fresh) → media runtime
//!          engine.replace_dialplan(dialplan, index, now)   then drain as after any input
//! ```

use std::sync::Arc;

use madoguchi_dialplan::Dialplan;

use super::queues::Queues;
use super::{Engine, Now, PromptIndex};

/// What a reload changed, for the log and the API's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadSummary {
    pub queues_added: Vec<String>,
    pub queues_kept: Vec<String>,
    pub queues_retired: Vec<String>,
    /// Calls in progress that go on under the dialplan they started with.
    pub calls_in_progress: usize,
}

impl Engine {
    /// Puts `dialplan` and its `prompts` in force for new calls (see the module docs).
    pub fn replace_dialplan(
        &mut self,
        dialplan: Arc<Dialplan>,
        prompts: Arc<PromptIndex>,
        now: Now,
    ) -> ReloadSummary {
        let old = (Arc::clone(&self.dialplan), Arc::clone(&self.prompts));
        for leg in self.calls.keys() {
            // A call pinned by an earlier reload keeps that older plan.
            self.pinned.entry(*leg).or_insert_with(|| old.clone());
        }
        self.dialplan = dialplan;
        self.prompts = prompts;
        let changes = self.queues.reload(&self.dialplan, &mut self.acd, now.mono);
        self.update_memberships(now);
        self.live_changed = true;
        self.pump(now);
        ReloadSummary {
            queues_added: changes.added,
            queues_kept: changes.kept,
            queues_retired: changes.retired,
            calls_in_progress: self.calls.len(),
        }
    }

    /// Every known operator's membership of the dialplan's queues, as its lists say now.
    fn update_memberships(&mut self, now: Now) {
        let operators: Vec<_> = self
            .operators
            .ids()
            .filter_map(|id| {
                let login = self.operators.login(id)?.to_owned();
                let role = self.operators.role(id)?.to_owned();
                Some((id, login, role))
            })
            .collect();
        for queue in self.dialplan.queues() {
            let Some(queue_id) = self.queues.id(&queue.name) else {
                continue;
            };
            for (operator, login, role) in &operators {
                let wanted = Queues::membership(queue, *operator, login, role);
                let current = self
                    .acd
                    .operator(*operator)
                    .and_then(|op| op.membership(queue_id));
                // Errors cannot happen: both ids come from the ACD's own tables.
                match wanted {
                    Some(membership) if current != Some(membership) => {
                        let _ = self
                            .acd
                            .add_member(now.mono, *operator, queue_id, membership);
                    }
                    None if current.is_some() => {
                        let _ = self.acd.remove_member(now.mono, *operator, queue_id);
                    }
                    _ => {}
                }
            }
        }
    }
}
