//! The dialplan's queues as ACD queues: names ↔ ids, settings, and who is a member.
//!
//! A reload ([`Queues::reload`]) keeps every queue id ever made: a queue the new dialplan
//! still has keeps its id and its waiting callers and takes the new settings; a new one is
//! added; one it no longer has is *retired*: its callers wait on and are served by its members
//! as before (calls that started under the old dialplan may still join it), and the live
//! board stops showing it once nobody waits in it.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use madoguchi_acd::{Acd, Membership, OperatorId, QueueConfig, QueueId, Strategy, Tier};
use madoguchi_dialplan::{Dialplan, Queue, QueueStrategy};

#[derive(Debug, Default)]
pub struct Queues {
    ids: HashMap<String, QueueId>,
    /// Index = `QueueId.0`.
    names: Vec<String>,
    /// Queues the dialplan in force no longer has.
    retired: HashSet<QueueId>,
}

/// What a reload did to the queues, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueChanges {
    pub added: Vec<String>,
    pub kept: Vec<String>,
    pub retired: Vec<String>,
}

impl Queues {
    /// Creates one ACD queue per dialplan queue.
    pub fn from_dialplan(dialplan: &Dialplan, acd: &mut Acd) -> Queues {
        let mut queues = Queues::default();
        for queue in dialplan.queues() {
            let id = QueueId(u32::try_from(queues.names.len()).unwrap_or(u32::MAX));
            // Ids are fresh, so the ACD cannot refuse them as duplicates.
            let _ = acd.add_queue(id, acd_config(queue));
            queues.ids.insert(queue.name.clone(), id);
            queues.names.push(queue.name.clone());
        }
        queues
    }

    pub fn id(&self, name: &str) -> Option<QueueId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: QueueId) -> &str {
        self.names.get(id.0 as usize).map_or("", String::as_str)
    }

    pub fn ids(&self) -> impl Iterator<Item = QueueId> + '_ {
        (0..self.names.len()).map(|i| QueueId(i as u32))
    }

    /// Whether the dialplan in force no longer has this queue.
    pub fn is_retired(&self, id: QueueId) -> bool {
        self.retired.contains(&id)
    }

    /// Applies a new dialplan's queues (see the module docs). Memberships are the caller's
    /// business: [`Queues::membership`] says what each operator's should be now.
    pub fn reload(&mut self, dialplan: &Dialplan, acd: &mut Acd, now: Instant) -> QueueChanges {
        let mut changes = QueueChanges::default();
        let mut current = HashSet::new();
        for queue in dialplan.queues() {
            let id = match self.id(&queue.name) {
                Some(id) => {
                    // The id is the ACD's own: it cannot be unknown.
                    let _ = acd.set_queue_config(now, id, acd_config(queue));
                    changes.kept.push(queue.name.clone());
                    id
                }
                None => {
                    let id = QueueId(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
                    // Ids are fresh, so the ACD cannot refuse them as duplicates.
                    let _ = acd.add_queue(id, acd_config(queue));
                    self.ids.insert(queue.name.clone(), id);
                    self.names.push(queue.name.clone());
                    changes.added.push(queue.name.clone());
                    id
                }
            };
            current.insert(id);
        }
        for id in self.ids() {
            if !current.contains(&id) && !self.retired.contains(&id) {
                changes.retired.push(self.name(id).to_owned());
            }
        }
        self.retired = self.ids().filter(|id| !current.contains(id)).collect();
        changes
    }

    /// The membership `login` should have in `queue`: the queue's member list says, or, for a
    /// queue without one, every agent is a member.
    pub fn membership(
        queue: &Queue,
        operator: OperatorId,
        login: &str,
        role: &str,
    ) -> Option<Membership> {
        match &queue.members {
            Some(members) => members.iter().enumerate().find_map(|(i, m)| {
                (m.login == login).then_some(Membership {
                    tier: Tier {
                        level: m.tier,
                        position: u32::try_from(i).unwrap_or(u32::MAX),
                    },
                    penalty: m.penalty,
                })
            }),
            None => (role == "agent").then_some(Membership {
                tier: Tier {
                    level: 1,
                    position: operator.0,
                },
                penalty: 0,
            }),
        }
    }

    /// Makes the operator a member of every queue that lists its login, and of every queue
    /// without a member list when its role is agent.
    pub fn enroll(
        &self,
        dialplan: &Dialplan,
        acd: &mut Acd,
        now: Instant,
        operator: OperatorId,
        login: &str,
        role: &str,
    ) {
        for queue in dialplan.queues() {
            let Some(id) = self.id(&queue.name) else {
                continue;
            };
            if let Some(membership) = Queues::membership(queue, operator, login, role) {
                let _ = acd.add_member(now, operator, id, membership);
            }
        }
    }
}

pub fn acd_config(queue: &Queue) -> QueueConfig {
    QueueConfig {
        strategy: match queue.strategy {
            QueueStrategy::LongestIdle => Strategy::LongestIdle,
            QueueStrategy::RoundRobin => Strategy::RoundRobin,
            QueueStrategy::RingAll => Strategy::RingAll,
            QueueStrategy::FewestCalls => Strategy::FewestCalls,
        },
        ring_timeout: queue.ring_timeout,
        wrap_up: queue.wrap_up,
        max_wait: queue.max_wait,
        join_empty: queue.join_empty,
        leave_when_empty: queue.leave_when_empty,
        auto_pause_after: queue.auto_pause_after,
        announce_every: queue.announce_every,
        max_callers: queue.max_callers,
    }
}
