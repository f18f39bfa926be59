// The board's words, Japanese first and English. Keys are looked up in the chosen language,
// then in Japanese; `{name}` in a string is replaced by the parameter of that name. The
// language choice is shared with the operator console (same storage key).

export const LANGUAGES = ['ja', 'en'];
export const STORAGE_KEY = 'madoguchi.lang';

export const STRINGS = {
  ja: {
    'app.title': '管理者ボード',
    'report.heading': '月次報告',
    'report.month': '対象月',
    'report.xlsx': 'Excel で保存',
    'report.csv': 'CSV で保存',
    'nav.staffing': '要員計画',
    'nav.faq': 'FAQ 編集',
    'skip': 'メインへ移動',
    'loading': '読み込み中…',
    'lang.toggle': 'English',
    'lang.toggle_label': '表示言語を切り替え（English）',
    'wall.toggle': '大きな文字',
    'connection.connecting': '接続中…',
    'connection.open': 'ライブ',
    'connection.closed': '切断 — 再接続します',
    'who': '{login} でサインイン中',
    'signout': 'サインアウト',
    'signin.heading': '管理者サインイン',
    'signin.login': 'ログインID',
    'signin.password': 'パスワード',
    'signin.submit': 'サインイン',
    'signin.submitting': 'サインイン中…',
    'signin.error.required': 'ログインIDとパスワードを入力してください。',
    'signin.error.bad_credentials': 'ログインIDまたはパスワードが違います。',
    'signin.error.rate_limited': '試行が多すぎます。しばらく待ってからもう一度お試しください。',
    'signin.error.network': 'サーバーに接続できません。',
    'signin.expired': 'セッションの有効期限が切れました。もう一度サインインしてください。',
    'signin.signed_out': 'サインアウトしました。',
    'forbidden.message': 'このページは管理者専用です。',
    'forbidden.hint': 'オペレーターの方はオペレーター画面をお使いください。',
    'forbidden.console': 'オペレーター画面へ',
    'kpi.waiting': '待ち呼',
    'kpi.longest': '最長待ち時間',
    'kpi.sl_today': 'サービスレベル（本日）',
    'kpi.sl_30': 'サービスレベル（直近30分）',
    'kpi.threshold': '{s}秒以内',
    'kpi.asa': '平均応答時間 ASA',
    'kpi.aht': '平均処理時間 AHT',
    'kpi.abandon_rate': '放棄率',
    'kpi.answer_rate': '応答率',
    'kpi.last30_suffix': '直近30分 {value}',
    'today.heading': '本日の件数',
    'today.offered': '着信（キュー）',
    'today.answered': '応答',
    'today.abandoned': '放棄',
    'today.overflowed': 'あふれ',
    'today.transferred': '転送',
    'today.callbacks': '折り返し希望',
    'today.callbacks_link': '本日の折り返し希望の一覧を開く',
    'queues.heading': 'キュー',
    'queues.name': 'キュー',
    'queues.waiting': '待ち呼',
    'queues.longest': '最長待ち',
    'queues.operators': '受付可 / ログイン',
    'waiting.heading': 'お待ちのお客様',
    'waiting.position': '順番',
    'waiting.queue': 'キュー',
    'waiting.language': '言語',
    'waiting.wait': '待ち時間',
    'waiting.none': 'お待ちのお客様はいません。',
    'waiting.language_label': '発信者の言語: {language}',
    'waiting.language_speaker': '{language}対応者を待機中（{waited} / {after}）',
    'waiting.language_anyone': '→ 全員に案内中',
    'waiting.language_anyone_label': '{language}対応者が応答せず、全オペレーターに案内中',
    'operators.heading': 'オペレーター',
    'operators.login': 'オペレーター',
    'operators.state': '状態',
    'operators.time': '経過',
    'operators.none': 'オペレーターが登録されていません。',
    'monitor.listen': '傍聴',
    'monitor.whisper': 'ささやき',
    'monitor.barge': '三者通話',
    'monitor.stop': '終了',
    'monitor.ringing': '呼出中',
    'monitor.active': 'モニター中: {manager}（{mode}）',
    'monitor.controls': '{operator} の通話のモニター',
    'monitor.button': '{operator} の通話: {action}',
    'monitor.error.no_phone': 'モニター用の電話が登録されていません',
    'monitor.error.already': 'ほかの管理者がモニター中です',
    'monitor.error.not_with_operator': 'この通話はオペレーターにつながっていません',
    'monitor.error.not_monitored': 'モニターは終了しています',
    'monitor.error.conflict': '今はモニターできません',
    'monitor.error.gone': '通話は終了しています',
    'monitor.error.session': 'セッションの有効期限が切れました',
    'monitor.error.forbidden': 'モニターする権限がありません',
    'monitor.error.network': 'サーバーに接続できません',
    'monitor.error.other': 'モニターできませんでした',
    'state.logged_out': 'ログアウト',
    'state.available': '受付可',
    'state.ringing': '呼出中',
    'state.on_call': '通話中',
    'state.wrap_up': '後処理',
    'state.paused': '休憩',
    'state.with_reason': '{state}（{reason}）',
    'reason.break': '休憩',
    'reason.lunch': '昼食',
    'reason.training': '研修',
    'reason.meeting': '会議',
    'reason.no_answer': '応答なし',
    'chart.heading': '30分ごとの件数（本日）',
    'chart.offered': '着信',
    'chart.answered': '応答',
    'chart.abandoned': '放棄',
    'chart.label': '本日30分ごとの着信・応答・放棄の件数。合計 着信{offered}件、応答{answered}件、放棄{abandoned}件。',
    'chart.bar': '{start} {series} {value}件',
    'alerts.heading': '苦情・トラブル',
    'alerts.none': 'このボードを開いてからの報告はありません。',
    'alerts.time': '時刻',
    'alerts.operator': 'オペレーター',
    'alerts.category': '区分',
    'alerts.outcome': '対応結果',
    'alerts.banner': '苦情・トラブルの報告: {operator}（{category}）{time}',
    'recording.failed.disk_full': '録音を保存できません（ディスク容量不足）: {count}件、最後は {time}。通話の受付は続いています。',
    'recording.failed.other': '録音の書き込みに失敗しました: {count}件、最後は {time}。通話の受付は続いています。',
    'alerts.dismiss': '閉じる',
    'alerts.announce': '苦情・トラブルの報告があります。オペレーター {operator}、区分 {category}。',
    'outcome.resolved_faq': 'FAQで解決',
    'outcome.transferred_city': '市へ転送',
    'outcome.referred_other_agency': '他機関を案内',
    'outcome.callback_needed': '折り返し必要',
    'outcome.other': 'その他',
    'updated': '更新 {time}',
    'devices.heading': '窓口機器',
    'devices.device': '機器',
    'devices.age': '最終受信',
    'devices.rtt': '往復時間',
    'devices.state': '状態',
    'devices.none': '登録された窓口機器はありません。',
    'devices.state.ok': '正常',
    'devices.state.warning': '注意',
    'devices.state.error': '異常',
    'devices.state.silent': '応答なし',
    'devices.state.never': '未受信',
    'devices.banner': '窓口機器から応答がありません: {label}（{location}）',
    'devices.banner_many': '窓口機器 {count}台から応答がありません（{label} ほか）',
  },
  en: {
    'app.title': 'Manager board',
    'report.heading': 'Monthly report',
    'report.month': 'Month',
    'report.xlsx': 'Save as Excel',
    'report.csv': 'Save as CSV',
    'nav.staffing': 'Staffing',
    'nav.faq': 'FAQ editor',
    'skip': 'Skip to main',
    'loading': 'Loading…',
    'lang.toggle': '日本語',
    'lang.toggle_label': 'Switch language (日本語)',
    'wall.toggle': 'Large type',
    'connection.connecting': 'Connecting…',
    'connection.open': 'Live',
    'connection.closed': 'Disconnected — reconnecting',
    'who': 'Signed in as {login}',
    'signout': 'Sign out',
    'signin.heading': 'Manager sign-in',
    'signin.login': 'Login',
    'signin.password': 'Password',
    'signin.submit': 'Sign in',
    'signin.submitting': 'Signing in…',
    'signin.error.required': 'Enter your login and password.',
    'signin.error.bad_credentials': 'Wrong login or password.',
    'signin.error.rate_limited': 'Too many attempts. Please wait and try again.',
    'signin.error.network': 'Cannot reach the server.',
    'signin.expired': 'Your session has expired. Please sign in again.',
    'signin.signed_out': 'Signed out.',
    'forbidden.message': 'This page is for managers only.',
    'forbidden.hint': 'Operators, please use the operator console.',
    'forbidden.console': 'Go to the operator console',
    'kpi.waiting': 'Waiting',
    'kpi.longest': 'Longest wait',
    'kpi.sl_today': 'Service level (today)',
    'kpi.sl_30': 'Service level (last 30 min)',
    'kpi.threshold': 'within {s} s',
    'kpi.asa': 'ASA',
    'kpi.aht': 'AHT',
    'kpi.abandon_rate': 'Abandon rate',
    'kpi.answer_rate': 'Answer rate',
    'kpi.last30_suffix': 'last 30 min {value}',
    'today.heading': 'Today',
    'today.offered': 'Offered',
    'today.answered': 'Answered',
    'today.abandoned': 'Abandoned',
    'today.overflowed': 'Overflowed',
    'today.transferred': 'Transferred',
    'today.callbacks': 'Callback requests',
    'today.callbacks_link': 'Open today\'s callback requests',
    'queues.heading': 'Queues',
    'queues.name': 'Queue',
    'queues.waiting': 'Waiting',
    'queues.longest': 'Longest',
    'queues.operators': 'Available / logged in',
    'waiting.heading': 'Callers waiting',
    'waiting.position': 'Place',
    'waiting.queue': 'Queue',
    'waiting.language': 'Language',
    'waiting.wait': 'Waiting',
    'waiting.none': 'Nobody is waiting.',
    'waiting.language_label': 'Caller speaks {language}',
    'waiting.language_speaker': 'waiting for a speaker of {language} ({waited} of {after})',
    'waiting.language_anyone': '→ anyone',
    'waiting.language_anyone_label': 'No {language} speaker answered: now offered to every operator',
    'operators.heading': 'Operators',
    'operators.login': 'Operator',
    'operators.state': 'State',
    'operators.time': 'Time',
    'operators.none': 'No operators are set up.',
    'monitor.listen': 'Listen',
    'monitor.whisper': 'Whisper',
    'monitor.barge': 'Barge in',
    'monitor.stop': 'End',
    'monitor.ringing': 'ringing',
    'monitor.active': 'Monitored by {manager} ({mode})',
    'monitor.controls': 'Monitoring of {operator}\'s call',
    'monitor.button': '{operator}\'s call: {action}',
    'monitor.error.no_phone': 'No phone is registered for monitoring',
    'monitor.error.already': 'Another manager is monitoring this call',
    'monitor.error.not_with_operator': 'The call is not with an operator',
    'monitor.error.not_monitored': 'Monitoring has already ended',
    'monitor.error.conflict': 'Cannot monitor right now',
    'monitor.error.gone': 'The call has ended',
    'monitor.error.session': 'Your session has expired',
    'monitor.error.forbidden': 'You may not monitor calls',
    'monitor.error.network': 'Cannot reach the server',
    'monitor.error.other': 'Monitoring failed',
    'state.logged_out': 'Logged out',
    'state.available': 'Available',
    'state.ringing': 'Ringing',
    'state.on_call': 'On call',
    'state.wrap_up': 'Wrap-up',
    'state.paused': 'Paused',
    'state.with_reason': '{state} ({reason})',
    'reason.break': 'break',
    'reason.lunch': 'lunch',
    'reason.training': 'training',
    'reason.meeting': 'meeting',
    'reason.no_answer': 'no answer',
    'chart.heading': 'Calls per 30 minutes (today)',
    'chart.offered': 'Offered',
    'chart.answered': 'Answered',
    'chart.abandoned': 'Abandoned',
    'chart.label': 'Calls per 30 minutes today. Total offered {offered}, answered {answered}, abandoned {abandoned}.',
    'chart.bar': '{start} {series} {value}',
    'alerts.heading': 'Complaints and trouble',
    'alerts.none': 'Nothing reported since this board was opened.',
    'alerts.time': 'Time',
    'alerts.operator': 'Operator',
    'alerts.category': 'Category',
    'alerts.outcome': 'Outcome',
    'alerts.banner': 'Complaint reported: {operator} ({category}) {time}',
    'recording.failed.disk_full': 'Recordings cannot be saved (disk full): {count}, last at {time}. Calls are still answered.',
    'recording.failed.other': 'Recordings failed to write: {count}, last at {time}. Calls are still answered.',
    'alerts.dismiss': 'Dismiss',
    'alerts.announce': 'Complaint reported by operator {operator}, category {category}.',
    'outcome.resolved_faq': 'Resolved by FAQ',
    'outcome.transferred_city': 'Transferred to city',
    'outcome.referred_other_agency': 'Referred to another agency',
    'outcome.callback_needed': 'Callback needed',
    'outcome.other': 'Other',
    'updated': 'Updated {time}',
    'devices.heading': 'Counter devices',
    'devices.device': 'Device',
    'devices.age': 'Last beat',
    'devices.rtt': 'Round trip',
    'devices.state': 'State',
    'devices.none': 'No counter devices are registered.',
    'devices.state.ok': 'OK',
    'devices.state.warning': 'Warning',
    'devices.state.error': 'Error',
    'devices.state.silent': 'Silent',
    'devices.state.never': 'Not heard yet',
    'devices.banner': 'A counter device is silent: {label} ({location})',
    'devices.banner_many': '{count} counter devices are silent ({label} and others)',
  },
};

/** The language to start in: the remembered one when it is known, else Japanese. */
export function initialLanguage(remembered) {
  return LANGUAGES.includes(remembered) ? remembered : 'ja';
}

/** The language this browser chose last (shared by every page), Japanese by default. */
export function storedLanguage() {
  try {
    return initialLanguage(window.localStorage.getItem(STORAGE_KEY));
  } catch {
    return 'ja';
  }
}

export function otherLanguage(lang) {
  return lang === 'ja' ? 'en' : 'ja';
}

/** The text of `key` in `lang` with `{name}` parameters filled in. */
export const translate = translatorWith({});

/**
 * The translate function of a page with words of its own (`own`: {ja, en}) on top of the
 * board's: its own word in the language, the board's in the language, then the Japanese ones.
 */
export function translatorWith(own) {
  return (lang, key, params = {}) => {
    const tables = [own[lang], STRINGS[lang], own.ja, STRINGS.ja];
    const table = tables.find((candidate) => candidate && Object.hasOwn(candidate, key));
    return fill(table ? table[key] : key, params);
  };
}

/** `{name}` in `text` replaced by the parameter of that name (left as is when absent). */
function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    (Object.hasOwn(params, name) && params[name] !== null && params[name] !== undefined
      ? String(params[name])
      : whole));
}

/** An operator state as shown: "休憩（昼食）", "受付可" … ("休憩" alone for a break). */
export function stateLabel(lang, state, reason) {
  const stateKey = `state.${state}`;
  const name = Object.hasOwn(STRINGS.ja, stateKey) ? translate(lang, stateKey) : String(state);
  if (state !== 'paused' || !reason) return name;
  const reasonKey = `reason.${reason}`;
  const why = Object.hasOwn(STRINGS.ja, reasonKey) ? translate(lang, reasonKey) : String(reason);
  return why === name || reason === 'break'
    ? name
    : translate(lang, 'state.with_reason', { state: name, reason: why });
}

/** An outcome code as shown; an unknown code as itself. */
export function outcomeLabel(lang, outcome) {
  const key = `outcome.${outcome}`;
  return Object.hasOwn(STRINGS.ja, key) ? translate(lang, key) : String(outcome ?? '');
}

/**
 * Languages a caller may choose in the dialplan ([languages.CODE]), as the operator console
 * names them (src/web/assets/agent/i18n.mjs): the language's own name on the badge, its name
 * in each display language for the words around it. The engine sends the code only.
 */
export const CALLER_LANGUAGES = {
  en: { own: 'English', ja: '英語', en: 'English' },
  zh: { own: '中文', ja: '中国語', en: 'Chinese' },
  ko: { own: '한국어', ja: '韓国語', en: 'Korean' },
  vi: { own: 'Tiếng Việt', ja: 'ベトナム語', en: 'Vietnamese' },
  pt: { own: 'Português', ja: 'ポルトガル語', en: 'Portuguese' },
  es: { own: 'Español', ja: 'スペイン語', en: 'Spanish' },
  ja: { own: '日本語', ja: '日本語', en: 'Japanese' },
};

/** The table row of a caller's language code ("zh-Hant" falls back to "zh"), or null. */
function callerLanguage(code) {
  const lower = String(code).toLowerCase();
  const key = [lower, lower.split('-')[0]].find((k) => Object.hasOwn(CALLER_LANGUAGES, k));
  return key ? CALLER_LANGUAGES[key] : null;
}

/** The badge of a caller's language: its own name ("English"), else the code ("TL"). */
export function languageBadge(code) {
  return callerLanguage(code)?.own ?? String(code).toUpperCase();
}

/** A caller's language named in the display language ("英語"), else the code ("TL"). */
export function languageName(lang, code) {
  const row = callerLanguage(code);
  return row ? (row[lang] ?? row.ja) : String(code).toUpperCase();
}
