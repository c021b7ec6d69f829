# tessera's hosted pages, German. Same message ids as locales/en/tessera.ftl.

product = tessera
page-title = { $title } · { product }

## Sign in
login-title = Anmelden
login-lead = um mit { $client } fortzufahren
login-username = Benutzername
login-password = Passwort
login-submit = Anmelden
login-passkey = Mit einem Passkey anmelden

## Second factor
mfa-title = Bestätigung in zwei Schritten
mfa-lead-totp = Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.
mfa-lead-totp-passkey = Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein, verwenden Sie einen Ihrer Passkeys oder einen Ihrer Wiederherstellungscodes.
mfa-lead-passkey = Bestätigen Sie mit einem Ihrer Passkeys, dass Sie es sind.
mfa-passkey = Passkey verwenden
mfa-code = Einmalcode
mfa-verify = Bestätigen
mfa-recovery-code = Wiederherstellungscode
mfa-use-recovery = Wiederherstellungscode verwenden

## Consent and device approval
consent-title = Zugriff erlauben
consent-heading = Zugriff erlauben?
consent-lead = { $client } bittet um Zugriff auf Ihr Konto ({ $user }):
consent-scope-granted = (bereits erlaubt)
consent-scope-new = (neu)
consent-allow = Erlauben
consent-deny = Ablehnen
consent-policy = Datenschutzerklärung von { $client }
consent-terms = Nutzungsbedingungen von { $client }
consent-client-home = Über { $client }
consent-new-tab = (öffnet sich in einem neuen Tab)

## Bereiche in Worten (Nachrichten-ID: scope-<scope>)
scope-openid = Bestätigen, wer Sie sind (Ihre Kontokennung)
scope-profile = Ihr Benutzername
scope-email = Ihre E-Mail-Adresse
scope-offline_access = Verbunden bleiben, auch wenn Sie es gerade nicht nutzen
device-title = Gerät verbinden
device-lead = Geben Sie den Code ein, den Ihr Gerät anzeigt.
device-code = Code
device-continue = Weiter
device-approve-heading = Dieses Gerät zulassen?
device-approve-lead = { $client } bittet auf einem Gerät um Zugriff auf Ihr Konto ({ $user }):
device-approve-code = Das Gerät sollte diesen Code anzeigen:
device-approve-warning-strong = Fahren Sie nur fort, wenn Sie dies selbst begonnen haben, auf einem Gerät, das Sie bei sich haben, und es diesen Code anzeigt.
device-approve-warning = Wenn Ihnen jemand diesen Code oder Link geschickt hat, wählen Sie „Ablehnen“: Eine Zustimmung gäbe dieser Person Zugriff auf Ihr Konto.
device-approve = Zulassen
device-connected-heading = Gerät verbunden
device-connected = Sie können jetzt zu Ihrem Gerät zurückkehren.
device-denied-heading = Gerät abgelehnt
device-denied = Das Gerät hat keinen Zugriff auf Ihr Konto erhalten.

## Logout
logout-title = Abmelden
logout-heading = Abmelden?
logout-client-asks = { $client } möchte Sie abmelden. Möchten Sie sich abmelden?
logout-page-asks = Eine Seite möchte Sie abmelden. Möchten Sie sich abmelden?
logout-submit = Abmelden
signed-out-heading = Abgemeldet
signed-out = Sie sind abgemeldet.

## Notices of the sign-in forms
notice-missing-credentials = Geben Sie Ihren Benutzernamen und Ihr Passwort ein.
notice-invalid-credentials = Benutzername oder Passwort ist falsch.
notice-too-many-attempts = Zu viele Versuche. Bitte warten Sie einen Moment und versuchen Sie es erneut.
notice-unavailable = Die Anmeldung ist vorübergehend nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.
notice-invalid-code = Dieser Code ist ungültig.
notice-invalid-user-code = Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät und versuchen Sie es erneut.
notice-passkey-refused = Mit diesem Passkey war keine Anmeldung möglich. Versuchen Sie es erneut oder melden Sie sich auf andere Weise an.

## Error pages
error-heading = Anmeldung fehlgeschlagen
error-malformed = Die Anfrage ist ungültig: { $detail }
error-no-client = Die Anfrage nennt keine Anwendung.
error-unknown-client = Die Anwendung ist nicht registriert.
error-client-gone = Die Anwendung ist nicht mehr registriert.
error-unregistered-redirect-uri = Die Weiterleitungsadresse ist für diese Anwendung nicht registriert.
error-invalid-redirect-uri = Die Weiterleitungsadresse ist ungültig.
error-invalid-request-uri = Diese Anmeldeanfrage ist abgelaufen, wurde bereits verwendet oder ist ungültig. Bitte beginnen Sie erneut in der Anwendung.
error-push-required = Diese Anwendung muss ihre Autorisierungsanfragen zuerst übermitteln (RFC 9126).
error-expired = Diese Anmeldeanfrage ist abgelaufen oder ungültig. Bitte beginnen Sie erneut in der Anwendung.
error-forged = Das Formular konnte nicht überprüft werden. Bitte beginnen Sie erneut in der Anwendung.
error-start-again = Bitte beginnen Sie erneut in der Anwendung.
error-too-many-codes = Zu viele falsche Codes. Bitte beginnen Sie erneut in der Anwendung.
error-sign-in-again = Bitte melden Sie sich in der Anwendung erneut an.
error-unregistered-logout-uri = Die Weiterleitungsadresse nach der Abmeldung ist nicht registriert.
error-device-code-gone = Dieser Code ist abgelaufen oder wurde bereits beantwortet. Bitte beginnen Sie erneut auf Ihrem Gerät.
error-logout-needs-client = Nennen Sie die Anwendung (client_id oder id_token_hint).
error-logout-client-mismatch = Die Abmeldeanfrage nennt eine Anwendung (client_id), enthält aber ein ID-Token einer anderen (id_token_hint). Sie sind weiterhin angemeldet.
error-passkeys-off = Passkeys sind hier nicht verfügbar.
error-unavailable = Bitte versuchen Sie es gleich noch einmal.
error-account-sign-in = Die Anmeldung konnte nicht abgeschlossen werden. Bitte öffnen Sie Ihre Kontoseite erneut.

## Account page
account-title = Ihr Konto
account-signed-in-as = Angemeldet als
account-reauth-hint = Bestätigen Sie zuerst, dass Sie es sind, um eine Anmeldemethode hinzuzufügen oder zu entfernen.
account-reauth = Erneut anmelden
account-passkeys = Passkeys
account-passkeys-hint = Melden Sie sich mit Fingerabdruck, Gesicht oder Displaysperre statt mit einem Passwort an.
account-no-passkeys = Sie haben noch keine Passkeys.
account-passkey-name = Name
account-rename = Umbenennen
account-passkey-added-on = Hinzugefügt { $created }
account-passkey-used-on = zuletzt verwendet { $used }
account-passkey-synced = synchronisiert
account-passkey-remove = { $name } entfernen
account-passkey-new-name = Name des neuen Passkeys
account-passkey-new-placeholder = z. B. Arbeitslaptop
account-passkey-add = Passkey hinzufügen
account-passkeys-off = Passkeys sind auf diesem Server nicht aktiviert.
account-totp = Authenticator-App
account-totp-scan = Scannen Sie diesen Code mit Ihrer Authenticator-App oder geben Sie den Schlüssel ein, und geben Sie dann den angezeigten 6-stelligen Code ein.
account-totp-qr = QR-Code des Schlüssels
account-totp-key = Schlüssel:
account-totp-code = Code
account-totp-confirm = Bestätigen
account-totp-active = Eine Authenticator-App ist eingerichtet.
account-totp-current-code = Aktueller Code
account-totp-remove-proof = Ihre Anmeldung liegt schon länger zurück: Bestätigen Sie mit Ihrem Passwort und einem aktuellen Code, oder melden Sie sich erneut an.
account-totp-remove = Authenticator-App entfernen
account-totp-none = Es ist keine Authenticator-App eingerichtet.
account-totp-start = Authenticator-App einrichten
account-recovery = Wiederherstellungscodes
account-recovery-new = Ihre neuen Wiederherstellungscodes. Bewahren Sie sie sicher auf: Sie werden nur einmal angezeigt.
account-recovery-left = { $count ->
    [one] { $count } unbenutzter Wiederherstellungscode übrig.
   *[other] { $count } unbenutzte Wiederherstellungscodes übrig.
}
account-recovery-make = Neue Wiederherstellungscodes erstellen
account-recovery-needs-totp = Wiederherstellungscodes gibt es zusammen mit einer Authenticator-App.
account-password = Passwort
account-password-current = Aktuelles Passwort
account-password-new = Neues Passwort
account-password-change = Passwort ändern
account-password-hint = Ihre anderen Sitzungen werden abgemeldet; diese bleibt bestehen.
account-sessions = Sitzungen
account-no-sessions = Keine Anwendung hat eine Sitzung von Ihnen.
account-session-started = begonnen { $started }
account-session-refreshed = zuletzt erneuert { $refreshed }
account-session-amr = angemeldet mit { $amr }
account-session-end = Abmelden
account-session-end-label = Von { $client } abmelden, begonnen { $started }
account-sign-out = Abmelden
account-sign-out-everywhere = Überall abmelden
account-sign-out-everywhere-hint = Beendet jede Ihrer Sitzungen, in jeder Anwendung und in diesem Browser.

## Account page notices and errors
account-done-passkey-added = Der Passkey wurde hinzugefügt.
account-done-passkey-renamed = Der Passkey wurde umbenannt.
account-done-passkey-removed = Der Passkey wurde entfernt.
account-done-totp-removed = Die Authenticator-App wurde entfernt.
account-done-totp-set-up = Die Authenticator-App ist eingerichtet.
account-done-password-changed = Ihr Passwort wurde geändert. Ihre anderen Sitzungen sind abgemeldet.
account-done-session-ended = Die Sitzung wurde abgemeldet.
account-done-session-gone = Diese Sitzung war bereits beendet.
account-error-sign-in-again = Bitte melden Sie sich zuerst erneut an: Diese Änderung erfordert eine kürzliche Anmeldung.
account-error-passkeys-full = Sie haben bereits 20 Passkeys: Entfernen Sie zuerst einen.
account-error-passkey-exists = Dieser Passkey ist bereits registriert.
account-error-passkey-name = Geben Sie dem Passkey einen Namen mit 1 bis 64 Zeichen.
account-error-passkey-gone = Diesen Passkey gibt es nicht mehr.
account-error-passkey-failed = Der Passkey konnte nicht hinzugefügt werden. Bitte versuchen Sie es erneut.
account-error-totp-code = Dieser Code ist ungültig. Geben Sie den aktuellen Code aus Ihrer Authenticator-App ein.
account-error-totp-start-again = Dieser Code ist ungültig. Beginnen Sie die Einrichtung erneut.
account-error-totp-current-code = Geben Sie Ihr aktuelles Passwort und einen aktuellen Code aus Ihrer Authenticator-App ein, oder melden Sie sich erneut an.
account-error-too-many-attempts = Zu viele Versuche. Bitte warten Sie einen Moment und versuchen Sie es erneut.
account-error-totp-first = Richten Sie zuerst eine Authenticator-App ein.
account-error-password-wrong = Das aktuelle Passwort ist nicht korrekt.
account-error-password-new = Geben Sie ein neues Passwort ein (höchstens 1024 Bytes).
