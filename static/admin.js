// The admin console (SPEC section 9). Every call goes through authlite-client's
// `auth.admin`, served by this same server; views are cloned from the page's
// <template>s into #view, one at a time, and chosen by the address's #/hash.
import { AuthliteClient, AuthliteError } from "../client/authlite-client.js";

const $ = (id) => document.getElementById(id);
// The server's root: this script is /admin/admin.js, behind a path prefix too.
const auth = new AuthliteClient({ baseUrl: new URL("../", import.meta.url) });

const MESSAGES = {
  INVALID_PASSWORD: "That password is not right.",
  USER_NOT_FOUND: "No account uses that email.",
  NO_PASSWORD_SET: "This account has no password yet. Ask another administrator for a set-password link.",
  USER_INACTIVE: "This account is turned off.",
  INVALID_CODE: "That code is not right, or was used already. Type the current code of your app.",
  MFA_REQUIRED: "This account needs its second factor.",
  SERVER_BUSY: "The server is busy right now. Wait a moment and try again.",
  INVALID_TOKEN: "The server did not accept your session. Please sign in again.",
  TOKEN_EXPIRED: "Your session has ended. Please sign in again.",
  TOKEN_REVOKED: "Your session was signed out. Please sign in again.",
  TOKEN_REUSED: "Your session was closed to keep it safe. Please sign in again.",
  MISSING_TOKEN: "You are not signed in.",
  FORBIDDEN: "This account may not use the admin console: it does not hold the role admin.",
  SESSION_NOT_FOUND: "That session has already ended.",
  ORG_NOT_FOUND: "There is no organization with that id.",
  API_KEY_NOT_FOUND: "That API key no longer exists.",
  EMAIL_TAKEN: "Another account already uses that email.",
  EMAIL_DISABLED: "This server cannot send email, so nothing was sent and nothing was changed. Make a link instead and pass it on yourself.",
  WEAK_PASSWORD: "Choose a stronger password: a longer one, not the account's email, and not a common one.",
  PAYLOAD_TOO_LARGE: "What you entered is too long to send.",
  NOT_FOUND: "This server does not offer that yet.",
  NETWORK_ERROR: "Could not reach the server. Check your connection and try again.",
  NOT_ADMIN: "This account is not an administrator: the admin console signs in only accounts that hold the role admin. You were signed out again.",
  NO_SUCH_EMAIL: "No user has that email.",
  BAD_DAYS: "Type the number of days the key works, from 1 to 3650, or leave it empty.",
  NO_SCOPE: "Choose at least one scope.",
  EMPTY_PASSWORD: "Type the password to set.",
  INVALID_CREDENTIAL: "That passkey was not accepted. Try again, or sign in with your password.",
  PASSKEYS_UNAVAILABLE: "This server is not set up for passkeys: its public address must be a host name (such as localhost), not an IP address.",
  PASSKEY_CANCELLED: "No passkey was used: the request was cancelled or timed out.",
  PASSKEY_UNSUPPORTED: "This browser cannot use passkeys here (they need https, or localhost).",
};
const CONTEXT = {
  user: { USER_NOT_FOUND: "That user no longer exists." },
  mfa: { INVALID_TOKEN: "This sign-in took too long or was used already. Start again.", TOKEN_EXPIRED: "This sign-in took too long. Start again." },
};
// After these the session cannot be used any more: back to the sign-in form.
const SESSION_DEAD = new Set(["INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_REVOKED", "TOKEN_REUSED", "USER_INACTIVE", "MISSING_TOKEN", "FORBIDDEN"]);
const STATUSES = ["active", "inactive", "banned", "deleted"];
const EVENT_TYPES = [
  "login.succeeded", "login.failed", "login.locked", "mfa.failed", "session.revoked", "session.reused",
  "password.changed", "password.reset", "password.set", "link.created",
  "user.created", "user.updated", "user.deleted", "user.erased", "user.unlocked",
  "mfa.totp.enabled", "mfa.totp.disabled", "mfa.recovery.regenerated", "mfa.recovery.used", "mfa.reset",
  "passkey.added", "passkey.removed", "key.rotated", "key.retired", "apikey.created", "apikey.revoked",
  "client.created", "client.removed", "oidc.authorized", "registration.requested", "registration.completed", "mail.failed",
];

const fail = (code, message = "") => new AuthliteError(0, code, message);
let mfaToken = null;
let orgs = null;
// A notice written just before a navigation survives that navigation.
let noticeAt = 0;

// ---- messages -------------------------------------------------------------

function describe(err, context) {
  if (err.code === "TOO_MANY_ATTEMPTS") {
    const secs = err.retryAfter;
    return secs ? `Too many attempts. Try again in ${secs < 90 ? `${Math.ceil(secs)} seconds` : `${Math.ceil(secs / 60)} minutes`}.` : "Too many attempts. Try again later.";
  }
  const special = CONTEXT[context] && CONTEXT[context][err.code];
  if (special) return special;
  if (err.code === "INVALID_REQUEST") return `The server refused that: ${err.message || "something in it is not valid."}`;
  if (err.code === "WEAK_PASSWORD" && err.message) return `${MESSAGES.WEAK_PASSWORD} (${err.message})`;
  if (MESSAGES[err.code]) return MESSAGES[err.code];
  if (err.status >= 500) return "The server ran into a problem. Try again in a moment.";
  return err.message || "Something went wrong. Try again.";
}

function showError(err, context) {
  const words = el("span", { className: "words" }, describe(err, context));
  const code = el("small", { className: "code" }, err.code);
  $("notice").textContent = "";
  $("error").dataset.code = err.code;
  $("error").replaceChildren(words, " ", code);
}

function notice(text) {
  clearMessages();
  $("notice").textContent = text;
  noticeAt = Date.now();
}

function clearMessages() {
  $("error").replaceChildren();
  delete $("error").dataset.code;
  $("notice").textContent = "";
}

// Runs one action of a button: busy while it runs, any failure in words.
// aria-disabled rather than disabled, so that focus stays on the button.
async function run(button, context, action) {
  if (button && button.getAttribute("aria-disabled") === "true") return;
  const label = button ? button.textContent : "";
  // A view's own loading (no button) keeps the notice that led to it.
  if (button) clearMessages();
  if (button) {
    button.setAttribute("aria-disabled", "true");
    if (button.dataset.busy) button.textContent = button.dataset.busy;
  }
  try {
    await action();
  } catch (err) {
    const e = err instanceof AuthliteError ? err : fail("CLIENT_ERROR", String((err && err.message) || err));
    if (context !== "signin" && context !== "mfa" && SESSION_DEAD.has(e.code)) {
      await auth.logout();
      route();
    }
    showError(e, context);
  } finally {
    if (button) {
      if (button.dataset.busy) button.textContent = label;
      button.removeAttribute("aria-disabled");
    }
  }
}

// ---- small DOM helpers ----------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const slot = (root, name) => root.querySelector(`[data-slot="${name}"]`);
const when = (secs) => (secs ? new Date(secs * 1000).toLocaleString() : "never");
const rolesOf = (text) => text.split(",").map((r) => r.trim()).filter(Boolean);
const badge = (text) => el("span", { className: `badge ${text}` }, text);

function show(templateId, narrow = false) {
  const view = $("view");
  view.replaceChildren($(templateId).content.cloneNode(true));
  $("main").classList.toggle("narrow", narrow);
  const title = view.querySelector("h1");
  if (title) document.title = `${title.textContent || "Admin"} · authlite`;
  return view;
}

function focusTitle(view) {
  const title = view.querySelector("h1");
  if (title) title.focus({ preventScroll: true });
}

// Asks before a destructive action; resolves true only for Confirm.
function confirmed(text) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((done) => dialog.addEventListener("close", () => done(dialog.returnValue === "confirm"), { once: true }));
}

// A value shown once (a link, a key): read-only, with a Copy button.
function copyBox(label, value, note) {
  const id = `copy-${Math.random().toString(36).slice(2)}`;
  const input = el("input", { id, value, readOnly: true });
  const button = el("button", { type: "button" }, "Copy");
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      document.execCommand("copy");
    }
    notice("Copied.");
  });
  return el("div", { className: "once" }, el("p", {}, note), el("label", { htmlFor: id }, label), el("div", { className: "copy" }, input, button));
}

async function loadOrgs() {
  orgs ??= await auth.admin.orgs();
  return orgs;
}

function fillOrgs(select, chosen) {
  for (const org of orgs ?? []) select.append(el("option", { value: org.id }, `${org.name} (${org.id})`));
  select.value = chosen ?? "";
}

// ---- signing in -----------------------------------------------------------

function signinView() {
  const view = show("t-signin", true);
  const form = view.querySelector("form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("button[type=submit]"), "signin", async () => {
      try {
        await auth.login(form.email.value.trim(), form.password.value);
      } catch (err) {
        if (!(err instanceof AuthliteError && err.code === "MFA_REQUIRED" && err.mfaToken)) throw err;
        mfaToken = err.mfaToken;
        mfaView();
        return;
      }
      await admitted();
    });
  });
  const passkey = form.querySelector("[data-action=passkey]");
  passkey.addEventListener("click", () => run(passkey, "signin", async () => {
    await withPasskey(() => auth.loginWithPasskey());
    await admitted();
  }));
  form.email.focus();
}

// The browser's refusals of a passkey ceremony, as codes the messages know.
async function withPasskey(ceremony) {
  try {
    return await ceremony();
  } catch (err) {
    if (err instanceof AuthliteError) throw err;
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "AbortError") throw fail("PASSKEY_CANCELLED");
    if (name === "SecurityError" || !window.PublicKeyCredential) throw fail("PASSKEY_UNSUPPORTED");
    throw err;
  }
}

function mfaView() {
  const view = show("t-mfa", true);
  const form = view.querySelector("form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("button[type=submit]"), "mfa", async () => {
      await auth.loginMfa(mfaToken, form.code.value.replace(/\s+/g, ""));
      mfaToken = null;
      await admitted();
    });
  });
  view.querySelector("[data-action=restart]").addEventListener("click", () => {
    mfaToken = null;
    clearMessages();
    route();
  });
  form.code.focus();
}

// Signed in: only an account with the role admin stays.
async function admitted() {
  const { user } = auth.session;
  if (!user.roles.includes("admin")) {
    await auth.logout();
    signinView();
    throw fail("NOT_ADMIN");
  }
  // A new hash routes through hashchange; the same one is routed here.
  if (!location.hash.startsWith("#/")) location.hash = "#/users";
  else route();
}

$("signout").addEventListener("click", async () => {
  await auth.logout();
  orgs = null;
  notice("You are signed out.");
  route();
});

// ---- users ----------------------------------------------------------------

async function usersView(params) {
  const view = show("t-users");
  const form = view.querySelector("#user-filter");
  form.query.value = params.get("query") ?? "";
  form.status.value = params.get("status") ?? "";
  form.role.value = params.get("role") ?? "";
  const list = async (cursor) => {
    const filter = { query: form.query.value.trim(), status: form.status.value, role: form.role.value.trim(), cursor };
    const page = await auth.admin.users(filter);
    slot(view, "list").replaceChildren(...page.users.map(userItem));
    slot(view, "empty").hidden = page.users.length > 0;
    showPager(view, cursor, page.nextCursor, list);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams({ query: form.query.value.trim(), status: form.status.value, role: form.role.value.trim() });
    history.replaceState(null, "", `#/users?${query}`);
    run(form.querySelector("button[type=submit]"), "users", () => list(undefined));
  });
  form.status.addEventListener("change", () => form.requestSubmit());
  view.querySelector("[data-action=new-user]").addEventListener("click", () => (location.hash = "#/users/new"));
  focusTitle(view);
  await run(null, "users", () => list(undefined));
}

function userItem(user) {
  const link = el("a", { href: `#/users/${encodeURIComponent(user.id)}` }, user.email);
  const roles = user.roles.length ? `roles: ${user.roles.join(", ")}` : "no roles";
  return el("li", {},
    el("div", { className: "main" }, link, badge(user.status), el("div", { className: "sub" }, `${user.name || "(no name)"} · ${user.orgId ?? "no organization"} · ${roles}`)),
  );
}

// "Next page" follows nextCursor; "First page" goes back to the start.
function showPager(view, cursor, next, list) {
  const pager = slot(view, "pager");
  pager.hidden = !next && cursor === undefined;
  const nextButton = pager.querySelector("[data-action=next-page]");
  const firstButton = pager.querySelector("[data-action=first-page]");
  nextButton.hidden = !next;
  firstButton.hidden = cursor === undefined;
  nextButton.onclick = () => run(nextButton, "list", () => list(next));
  firstButton.onclick = () => run(firstButton, "list", () => list(undefined));
}

async function newUserView() {
  const view = show("t-new-user");
  const form = view.querySelector("form");
  const how = () => form.querySelector("input[name=how]:checked").value;
  const sync = () => {
    slot(view, "password").hidden = how() !== "password";
    slot(view, "send").hidden = how() !== "invite";
  };
  form.addEventListener("change", sync);
  sync();
  focusTitle(view);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("button[type=submit]"), "new-user", async () => {
      const body = { email: form.email.value.trim(), name: form.name.value.trim(), roles: rolesOf(form.roles.value) };
      if (form.orgId.value) body.orgId = form.orgId.value;
      if (how() === "password") {
        if (!form.password.value) throw fail("EMPTY_PASSWORD");
        body.password = form.password.value;
      } else if (form.send.checked) {
        body.invite = true;
      }
      const user = await auth.admin.createUser(body);
      if (how() === "invite" && !body.invite) {
        const link = await auth.admin.makeLink(user.id);
        await userView(user.id, { link, created: true });
        history.replaceState(null, "", `#/users/${encodeURIComponent(user.id)}`);
        return;
      }
      location.hash = `#/users/${encodeURIComponent(user.id)}`;
      notice(body.invite ? `${user.email} was created and emailed a set-password link.` : `${user.email} was created.`);
    });
  });
  await run(null, "new-user", async () => {
    await loadOrgs();
    fillOrgs(form.orgId, "");
  });
}

// ---- one user -------------------------------------------------------------

async function userView(id, { link, created } = {}) {
  const view = show("t-user");
  let user;
  const render = () => {
    slot(view, "title").textContent = user.email;
    document.title = `${user.email} · authlite`;
    const form = view.querySelector("#edit-user");
    form.email.value = user.email;
    form.name.value = user.name;
    form.orgId.replaceChildren(el("option", { value: "" }, "No organization"));
    fillOrgs(form.orgId, user.orgId);
    form.roles.value = user.roles.join(", ");
    form.status.value = user.status;
    const mfa = user.mfa ?? { totp: false, recoveryCodesLeft: 0, passkeys: 0 };
    const factors = [mfa.totp ? "authenticator app" : null, mfa.recoveryCodesLeft ? `${mfa.recoveryCodesLeft} recovery codes` : null, mfa.passkeys ? `${mfa.passkeys} passkeys` : null].filter(Boolean);
    const facts = [
      ["Status", badge(user.status)], ["User id", el("code", {}, user.id)], ["Password", user.hasPassword ? "set" : "none yet"],
      ["Second factors", factors.length ? factors.join(", ") : "none"], ["Created", when(user.createdAt)], ["Last sign-in", when(user.lastLoginAt)],
      ["Locked", user.lockedUntil ? `until ${when(user.lockedUntil)}` : "no"],
    ];
    slot(view, "facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    slot(view, "audit-link").href = `#/audit?user=${encodeURIComponent(user.id)}`;
  };
  const showLink = (made, note) => {
    const box = slot(view, "link");
    box.replaceChildren(copyBox("Set-password link", made.url, `${note} It works until ${when(made.expiresAt)}, once.`));
    box.hidden = false;
  };
  const sessions = async () => {
    const list = await auth.admin.userSessions(id);
    slot(view, "no-sessions").hidden = list.length > 0;
    slot(view, "sessions").replaceChildren(...list.map((s) => sessionItem(s, sessions)));
  };

  const form = view.querySelector("#edit-user");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("button[type=submit]"), "user", async () => {
      const changes = { email: form.email.value.trim(), name: form.name.value.trim(), orgId: form.orgId.value || null, roles: rolesOf(form.roles.value), status: form.status.value };
      user = await auth.admin.updateUser(id, changes);
      render();
      await sessions();
      notice("Saved.");
    });
  });
  const pw = view.querySelector("#set-password-form");
  pw.addEventListener("submit", (event) => {
    event.preventDefault();
    run(pw.querySelector("button[type=submit]"), "user", async () => {
      if (!pw.password.value) throw fail("EMPTY_PASSWORD");
      await auth.admin.setPassword(id, pw.password.value);
      pw.password.value = "";
      user = await auth.admin.user(id);
      render();
      await sessions();
      notice("The password was set, and every session of the user was signed out.");
    });
  });
  const action = (name, work) => {
    const button = view.querySelector(`[data-action=${name}]`);
    button.addEventListener("click", () => run(button, "user", () => work(button)));
  };
  action("make-link", async () => {
    const made = await auth.admin.makeLink(id);
    showLink(made, "Pass this link on: it sets the password of this account.");
  });
  action("unlock", async () => {
    await auth.admin.unlock(id);
    user = await auth.admin.user(id);
    render();
    notice("Unlocked: the failed sign-ins of this account were cleared.");
  });
  action("revoke-all", async () => {
    if (!(await confirmed(`Sign ${user.email} out of every session?`))) return;
    await auth.admin.revokeUserSessions(id);
    await sessions();
    notice("Every session of the user was revoked.");
  });
  action("reset-mfa", async () => {
    if (!(await confirmed(`Remove every second factor of ${user.email} (authenticator app, recovery codes, passkeys)? They then sign in with the password alone.`))) return;
    await auth.admin.resetMfa(id);
    user = await auth.admin.user(id);
    render();
    notice("The second factors were removed.");
  });
  action("erase", async () => {
    if (!(await confirmed(`Erase ${user.email} for good? The account and everything of theirs is removed; this cannot be undone.`))) return;
    await auth.admin.deleteUser(id, { erase: true });
    location.hash = "#/users";
    notice(`${user.email} was erased.`);
  });

  await run(null, "user", async () => {
    [user] = await Promise.all([auth.admin.user(id), loadOrgs()]);
    render();
    focusTitle(view);
    if (link) showLink(link, created ? `${user.email} was created. Pass this link on: it sets their password.` : "");
    await sessions();
  });
}

function sessionItem(s, reload) {
  const button = el("button", { type: "button", className: "danger" }, "Revoke");
  button.setAttribute("aria-label", `Revoke the session from ${s.userAgent || "an unknown device"}, started ${when(s.createdAt)}`);
  button.addEventListener("click", () => run(button, "session", async () => {
    if (!(await confirmed("Revoke this session? Its device is signed out."))) return;
    await auth.admin.revokeSession(s.sid);
    await reload();
    notice("The session was revoked.");
  }));
  const about = `${s.ip ?? "unknown address"} · started ${when(s.createdAt)} · last used ${when(s.lastUsedAt)}`;
  return el("li", {}, el("div", { className: "main" }, el("div", {}, s.userAgent || "Unknown device"), el("div", { className: "sub" }, about)), button);
}

// ---- audit log ------------------------------------------------------------

async function auditView(params) {
  const view = show("t-audit");
  const form = view.querySelector("form");
  for (const type of EVENT_TYPES) form.type.append(el("option", { value: type }, type));
  form.user.value = params.get("user") ?? "";
  form.type.value = params.get("type") ?? "";
  const list = async (cursor) => {
    const filter = { type: form.type.value || undefined, userId: await userIdOf(form.user.value.trim()), cursor };
    const page = await auth.admin.audit(filter);
    slot(view, "list").replaceChildren(...page.events.map(eventItem));
    slot(view, "empty").hidden = page.events.length > 0;
    showPager(view, cursor, page.nextCursor, list);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `#/audit?${new URLSearchParams({ user: form.user.value.trim(), type: form.type.value })}`);
    run(form.querySelector("button[type=submit]"), "audit", () => list(undefined));
  });
  focusTitle(view);
  await run(null, "audit", () => list(undefined));
}

// The audit filter takes an email (looked up) or a user id as it is.
async function userIdOf(text) {
  if (!text) return undefined;
  if (!text.includes("@")) return text;
  const { users } = await auth.admin.users({ query: text });
  const user = users.find((u) => u.email.toLowerCase() === text.toLowerCase());
  if (!user) throw fail("NO_SUCH_EMAIL");
  return user.id;
}

function eventItem(e) {
  const who = e.userId ? el("a", { href: `#/users/${encodeURIComponent(e.userId)}` }, e.userId) : "no user";
  const detail = e.detail && Object.keys(e.detail).length ? el("pre", { className: "detail" }, JSON.stringify(e.detail)) : null;
  return el("li", {},
    el("div", { className: "main" },
      el("div", {}, el("strong", {}, e.type), " · ", when(e.at)),
      el("div", { className: "sub" }, "user ", who, ` · by ${e.actor}${e.ip ? ` · from ${e.ip}` : ""}`),
      detail),
  );
}

// ---- API keys -------------------------------------------------------------

async function apiKeysView() {
  const view = show("t-api-keys");
  const form = view.querySelector("form");
  const list = async () => {
    const keys = await auth.admin.apiKeys();
    slot(view, "list").replaceChildren(...keys.map((k) => keyItem(k, list)));
    slot(view, "empty").hidden = keys.length > 0;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("button[type=submit]"), "api-key", async () => {
      const scopes = [...form.querySelectorAll("input[name=scope]:checked")].map((c) => c.value);
      if (!scopes.length) throw fail("NO_SCOPE");
      const request = { name: form.name.value.trim(), scopes };
      const days = form.days.value.trim();
      if (days) {
        if (!/^\d+$/.test(days) || Number(days) < 1 || Number(days) > 3650) throw fail("BAD_DAYS");
        request.ttl = Number(days) * 86400;
      }
      const { key, apiKey } = await auth.admin.createApiKey(request);
      const box = slot(view, "created");
      box.replaceChildren(copyBox("New API key", key, `The key of “${apiKey.name}”: copy it now, it is not shown again.`));
      box.hidden = false;
      form.reset();
      await list();
    });
  });
  focusTitle(view);
  await run(null, "api-keys", list);
}

function keyItem(k, reload) {
  const now = Date.now() / 1000;
  const state = k.revokedAt ? "revoked" : k.expiresAt && k.expiresAt <= now ? "expired" : "active";
  const about = `${k.scopes.join(", ")} · created ${when(k.createdAt)} · expires ${k.expiresAt ? when(k.expiresAt) : "never"} · last used ${when(k.lastUsedAt)}`;
  const item = el("li", {}, el("div", { className: "main" }, el("div", {}, el("strong", {}, k.name), badge(state)), el("div", { className: "sub" }, about)));
  if (state !== "revoked") {
    const button = el("button", { type: "button", className: "danger" }, "Revoke");
    button.setAttribute("aria-label", `Revoke ${k.name}`);
    button.addEventListener("click", () => run(button, "api-key", async () => {
      if (!(await confirmed(`Revoke the API key “${k.name}”? Apps that use it are refused within a second.`))) return;
      await auth.admin.revokeApiKey(k.id);
      await reload();
      notice(`The API key “${k.name}” was revoked.`);
    }));
    item.append(button);
  }
  return item;
}

// ---- the router -----------------------------------------------------------

function route() {
  const signedIn = !!auth.session;
  $("nav").hidden = !signedIn;
  $("who").hidden = !signedIn;
  if (!signedIn) {
    $("who-email").textContent = "";
    return mfaToken ? mfaView() : signinView();
  }
  $("who-email").textContent = auth.session.user.email;
  const [path, query] = (location.hash.slice(1) || "/users").split("?");
  const params = new URLSearchParams(query ?? "");
  const parts = path.split("/").filter(Boolean);
  for (const a of document.querySelectorAll("nav a")) {
    a.toggleAttribute("aria-current", a.getAttribute("href") === `#/${parts[0]}`);
    if (a.hasAttribute("aria-current")) a.setAttribute("aria-current", "page");
  }
  if (parts[0] === "users" && parts[1] === "new") return newUserView();
  if (parts[0] === "users" && parts[1]) return userView(decodeURIComponent(parts[1]));
  if (parts[0] === "audit") return auditView(params);
  if (parts[0] === "api-keys") return apiKeysView();
  if (parts[0] === "clients") return clientsView();
  return usersView(params);
}

// ---- OpenID Connect clients ------------------------------------------------

async function clientsView() {
  const view = show("t-clients");
  const form = view.querySelector("form");
  const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);
  const list = async () => {
    const clients = await auth.admin.clients();
    slot(view, "list").replaceChildren(...clients.map((c) => clientItem(c, list)));
    slot(view, "empty").hidden = clients.length > 0;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("button[type=submit]"), "client", async () => {
      const roles = form.roles.value.split(",").map((r) => r.trim()).filter(Boolean);
      const request = {
        name: form.name.value.trim(), redirectUris: lines(form.redirects.value), public: form.public.checked,
        roles, postLogoutUris: lines(form.logouts.value),
      };
      const { client, clientSecret } = await auth.admin.createClient(request);
      const box = slot(view, "created");
      box.replaceChildren(copyBox("Client ID", client.id, `The client_id of “${client.name}”.`));
      if (clientSecret) box.append(copyBox("Client secret", clientSecret, "Copy it now: it is not shown again."));
      box.hidden = false;
      form.reset();
      await list();
    });
  });
  focusTitle(view);
  await run(null, "clients", list);
}

function clientItem(c, reload) {
  const about = `${c.public ? "public" : "confidential"} · ${c.redirectUris.join(" ")}${c.roles.length ? ` · roles ${c.roles.join(", ")}` : ""} · added ${when(c.createdAt)}`;
  const item = el("li", {}, el("div", { className: "main" }, el("div", {}, el("strong", {}, c.name)), el("div", { className: "sub" }, about), el("div", { className: "sub" }, `client_id ${c.id}`)));
  const button = el("button", { type: "button", className: "danger" }, "Remove");
  button.setAttribute("aria-label", `Remove ${c.name}`);
  button.addEventListener("click", () => run(button, "client", async () => {
    if (!(await confirmed(`Remove the client “${c.name}”? Its sign-ins stop working and the sessions it made are revoked.`))) return;
    await auth.admin.removeClient(c.id);
    await reload();
    notice(`The client “${c.name}” was removed.`);
  }));
  item.append(button);
  return item;
}

window.addEventListener("hashchange", () => {
  if (Date.now() - noticeAt > 1000) clearMessages();
  route();
});
route();
