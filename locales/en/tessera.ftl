# tessera's hosted pages, English (the fallback of every other language).
# Message ids are used by templates/*.html (t("id")) and by src/http (notices and errors).
# Variables: $client (the application's name), $user (the signed-in username), $code, $count,
# $started, $refreshed, $amr, $name, $created, $used.

product = tessera
page-title = { $title } · { product }

## Sign in
login-title = Sign in
login-lead = to continue to { $client }
login-username = Username
login-password = Password
login-submit = Sign in
login-passkey = Sign in with a passkey

## Second factor
mfa-title = Two-step verification
mfa-lead-totp = Enter the 6-digit code from your authenticator app or one of your recovery codes.
mfa-lead-totp-passkey = Enter the 6-digit code from your authenticator app, use one of your passkeys, or one of your recovery codes.
mfa-lead-passkey = Confirm it is you with one of your passkeys.
mfa-passkey = Use a passkey
mfa-code = One-time code
mfa-verify = Verify
mfa-recovery-code = Recovery code
mfa-use-recovery = Use recovery code

## Consent and device approval
consent-title = Allow access
consent-heading = Allow access?
consent-lead = { $client } asks for access to your account ({ $user }):
consent-scope-granted = (already allowed)
consent-scope-new = (new)
consent-allow = Allow
consent-deny = Deny
consent-policy = Privacy policy of { $client }
consent-terms = Terms of service of { $client }
consent-client-home = About { $client }
consent-new-tab = (opens in a new tab)

## Scopes in words (message id: scope-<scope>)
scope-openid = Confirm who you are (your account identifier)
scope-profile = Your username
scope-email = Your email address
scope-offline_access = Stay connected when you are not using it
device-title = Connect a device
device-lead = Enter the code shown on your device.
device-code = Code
device-continue = Continue
device-approve-heading = Allow this device?
device-approve-lead = { $client } on a device asks for access to your account ({ $user }):
device-approve-code = The device should show this code:
device-approve-warning-strong = Only continue if you started this yourself, on a device you have with you, and it shows this code.
device-approve-warning = If someone sent you this code or link, choose Deny: approving would give them access to your account.
device-approve = Approve
device-connected-heading = Device connected
device-connected = You can return to your device now.
device-denied-heading = Device denied
device-denied = The device did not get access to your account.

## Logout
logout-title = Sign out
logout-heading = Sign out?
logout-client-asks = { $client } asks to sign you out. Do you want to sign out?
logout-page-asks = A page asks to sign you out. Do you want to sign out?
logout-submit = Sign out
signed-out-heading = Signed out
signed-out = You are signed out.

## Notices of the sign-in forms
notice-missing-credentials = Enter your username and password.
notice-invalid-credentials = Invalid username or password.
notice-too-many-attempts = Too many attempts. Please wait a moment and try again.
notice-unavailable = Sign-in is temporarily unavailable. Please try again shortly.
notice-invalid-code = That code is not valid.
notice-invalid-user-code = That code is not valid or has expired. Check the code on your device and try again.
notice-passkey-refused = That passkey could not be used to sign in. Try again, or use another way to sign in.

## Error pages
error-heading = Sign-in failed
error-malformed = The request is invalid: { $detail }
error-no-client = The request names no client.
error-unknown-client = The application is not registered.
error-client-gone = The application is no longer registered.
error-unregistered-redirect-uri = The redirect URI is not registered for this application.
error-invalid-redirect-uri = The redirect URI is invalid.
error-invalid-request-uri = This sign-in request has expired, was already used or is invalid. Please start again from the application.
error-push-required = This application must push its authorization requests first (RFC 9126).
error-expired = This sign-in request has expired or is invalid. Please start again from the application.
error-forged = The form could not be verified. Please start again from the application.
error-start-again = Please start again from the application.
error-too-many-codes = Too many wrong codes. Please start again from the application.
error-sign-in-again = Please sign in again from the application.
error-unregistered-logout-uri = The post-logout redirect URI is not registered.
error-device-code-gone = This code has expired or was already answered. Please start again on your device.
error-logout-needs-client = Name the application (client_id or id_token_hint).
error-logout-client-mismatch = The logout request names one application (client_id) but carries an ID token of another (id_token_hint). You are still signed in.
error-passkeys-off = Passkeys are not available here.
error-unavailable = Please try again shortly.
error-account-sign-in = The sign-in could not be completed. Please open your account page again.

## Account page
account-title = Your account
account-signed-in-as = Signed in as
account-reauth-hint = To add or remove a sign-in method, confirm it is you first.
account-reauth = Sign in again
account-passkeys = Passkeys
account-passkeys-hint = Sign in with your fingerprint, face or screen lock instead of a password.
account-no-passkeys = You have no passkeys yet.
account-passkey-name = Name
account-rename = Rename
account-passkey-added-on = Added { $created }
account-passkey-used-on = last used { $used }
account-passkey-synced = synced
account-passkey-remove = Remove { $name }
account-passkey-new-name = Name of the new passkey
account-passkey-new-placeholder = e.g. Work laptop
account-passkey-add = Add a passkey
account-passkeys-off = Passkeys are not enabled on this server.
account-totp = Authenticator app
account-totp-scan = Scan this code with your authenticator app, or type the key, then enter the 6-digit code it shows.
account-totp-qr = QR code of the key
account-totp-key = Key:
account-totp-code = Code
account-totp-confirm = Confirm
account-totp-active = An authenticator app is set up.
account-totp-current-code = Current code
account-totp-remove-proof = You signed in a while ago: confirm with your password and a current code, or sign in again.
account-totp-remove = Remove the authenticator app
account-totp-none = No authenticator app is set up.
account-totp-start = Set up an authenticator app
account-recovery = Recovery codes
account-recovery-new = Your new recovery codes. Keep them somewhere safe: they are shown only once.
account-recovery-left = { $count ->
    [one] { $count } unused recovery code left.
   *[other] { $count } unused recovery codes left.
}
account-recovery-make = Make new recovery codes
account-recovery-needs-totp = Recovery codes come with an authenticator app.
account-password = Password
account-password-current = Current password
account-password-new = New password
account-password-change = Change password
account-password-hint = Your other sessions are signed out; this one stays.
account-sessions = Sessions
account-no-sessions = No application holds a session of yours.
account-session-started = started { $started }
account-session-refreshed = last refreshed { $refreshed }
account-session-amr = signed in with { $amr }
account-session-end = Sign out
account-session-end-label = Sign out of { $client }, started { $started }
account-sign-out = Sign out
account-sign-out-everywhere = Sign out everywhere
account-sign-out-everywhere-hint = Ends every session of yours, in every application and this browser.

## Account page notices and errors
account-done-passkey-added = The passkey was added.
account-done-passkey-renamed = The passkey was renamed.
account-done-passkey-removed = The passkey was removed.
account-done-totp-removed = The authenticator app was removed.
account-done-totp-set-up = The authenticator app is set up.
account-done-password-changed = Your password was changed. Your other sessions are signed out.
account-done-session-ended = The session was signed out.
account-done-session-gone = That session had already ended.
account-error-sign-in-again = Please sign in again first: this change needs a recent sign-in.
account-error-passkeys-full = You have 20 passkeys already: remove one first.
account-error-passkey-exists = This passkey is already registered.
account-error-passkey-name = Name the passkey with 1 to 64 characters.
account-error-passkey-gone = That passkey no longer exists.
account-error-passkey-failed = The passkey could not be added. Please try again.
account-error-totp-code = That code is not valid. Enter the current code from your authenticator app.
account-error-totp-start-again = That code is not valid. Start the set-up again.
account-error-totp-current-code = Enter your current password and a current code from your authenticator app, or sign in again.
account-error-too-many-attempts = Too many attempts. Please wait a moment and try again.
account-error-totp-first = Set up an authenticator app first.
account-error-password-wrong = The current password is not correct.
account-error-password-new = Enter a new password (at most 1024 bytes).
