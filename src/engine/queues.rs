//! The dialplan's queues as ACD queues: names ↔ ids, settings, and who is a member.

use std::collections::HashMap;
use std::time::Instant;

use madoguchi_acd::{Acd, Membership, OperatorId, QueueConfig, QueueId, Strategy, Tier};
use madoguchi_dialplan::{Dialplan, Queue, QueueStrategy};

#[derive(Debug, Default)]
pub struct Queues {
    ids: HashMap<String, QueueId>,
    /// Index = `QueueId.0`.
    names: Vec<String>,
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
            let membership = match &queue.members {
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
            };
            if let Some(membership) = membership {
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
