//! The caller's language (issue 9): chosen by a `{ language = … }` step, it picks the prompt
//! set every later play comes from, the operator skill the caller waits for in a queue, and
//! what happens when no operator with that skill answers in time (any operator, or the
//! language's fallback target). It travels with the call to the board, the console and the
//! operator's INVITE (`X-Madoguchi-Language`), and ends in the record.

use std::time::Duration;

use madoguchi_acd::Relax;
use madoguchi_dialplan::{is_language_code, FlowRunner, LanguageFallback};
use madoguchi_prompts::PromptId;
use madoguchi_store::LanguageFallbackUsed;
use serde_json::json;

use super::{Call, CallOutput, Ctx, Disposition, TransferOrigin};
use crate::engine::Now;

/// Header carrying the caller's language to operators' phones, peer nodes and targets.
pub const LANGUAGE_HEADER: &str = "X-Madoguchi-Language";

/// A caller of a language waits for operators with its skill, for `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SkillWait {
    pub skill: String,
    pub after: Duration,
    pub relax: Relax,
}

/// The caller's wait for an operator who speaks its language, in the queue it waits in now:
/// what the board and the console show of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LanguageWait {
    /// How long only such operators are offered the caller (the language's `after`).
    pub after: Duration,
    /// The wait is over and any operator of the queue is offered the caller (fallback "any").
    pub relaxed: bool,
}

impl LanguageWait {
    /// The fallback the caller is served by now, as the board and the console name it.
    pub fn fallback(&self) -> Option<&'static str> {
        self.relaxed.then_some("any")
    }
}

/// A language code as another node's header gives it: kept only when it looks like one.
pub(crate) fn language_from_header(value: &str) -> Option<String> {
    is_language_code(value).then(|| value.to_owned())
}

impl Call {
    /// The language the caller chose; `None` for the default one.
    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    /// The prompt the caller hears for `name`: its language's version when that language
    /// declares one, else the default one.
    pub(super) fn prompt_id(&self, ctx: &Ctx<'_>, name: &str) -> Option<PromptId> {
        let name = ctx.dialplan.prompt_for(self.language.as_deref(), name);
        ctx.prompts.get(&name).copied()
    }

    /// Takes the language the flow's `language` steps chose. A target's steps run in a fresh
    /// runner that chose none: the call keeps its language then.
    pub(super) fn sync_language(&mut self, now: Now, ctx: &Ctx<'_>) {
        let Some(chosen) = self.runner.as_ref().and_then(FlowRunner::language) else {
            return;
        };
        let default = ctx.dialplan.languages().default.as_deref();
        let chosen = (default != Some(chosen)).then(|| chosen.to_owned());
        if chosen != self.language {
            self.language = chosen;
            self.event(now, "language", json!({ "language": self.language }));
        }
    }

    /// What the caller waits for in a queue: its language's skill, or anyone.
    pub(super) fn skill_wait(&self, ctx: &Ctx<'_>) -> Option<SkillWait> {
        let language = ctx.dialplan.languages().get(self.language.as_deref()?)?;
        Some(SkillWait {
            skill: language.skill.clone(),
            after: language.after,
            relax: match language.fallback {
                LanguageFallback::Any => Relax::Any,
                LanguageFallback::Target(_) => Relax::Exit,
            },
        })
    }

    /// The caller's wait for an operator who speaks its language in its current queue.
    pub fn language_wait(&self) -> Option<LanguageWait> {
        self.language_wait
    }

    /// The ACD now offers the caller to any operator.
    pub(super) fn skill_relaxed(&mut self, now: Now) {
        if let Some(wait) = self.language_wait.as_mut() {
            wait.relaxed = true;
        }
        self.language_fallback = Some(LanguageFallbackUsed::Any);
        self.event(
            now,
            "language_fallback",
            json!({ "language": self.language, "fallback": "any" }),
        );
    }

    /// No operator with the caller's language answered in time and the language falls back
    /// to a target: the caller is transferred there as by a queue's overflow. False when
    /// the language names no target (a reload changed it): the caller goes back to the flow.
    pub(super) fn language_timed_out(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        queue: String,
        out: &mut Vec<CallOutput>,
    ) -> bool {
        let target = self
            .language
            .as_deref()
            .and_then(|code| ctx.dialplan.languages().get(code))
            .and_then(|l| match &l.fallback {
                LanguageFallback::Target(target) => Some(target.clone()),
                LanguageFallback::Any => None,
            });
        let Some(target) = target else {
            return false;
        };
        self.language_fallback = Some(LanguageFallbackUsed::Target);
        self.queue.outcome = Some(Disposition::Overflowed);
        self.event(
            now,
            "language_fallback",
            json!({ "language": self.language, "fallback": "target", "target": target }),
        );
        self.start_transfer(now, ctx, &target, TransferOrigin::Overflow { queue }, out);
        true
    }
}
