/*
 * deskbridge: "Start remote session" UI Action (server-side script)
 *
 * Install this as a UI Action. Setup steps are in README.md in this folder.
 *   Name:         Start remote session
 *   Table:        Incident [incident]
 *   Action name:  deskbridge_start_remote_session
 *   Active:       true       Show insert: false       Show update: true
 *   Client:       false      Form button: true
 *   Condition:    current.active == true
 *   Application:  Global
 *
 * When an agent clicks the button, this script:
 *   1. builds the JSON body that deskbridge expects (see SPEC and contracts/servicenow.md),
 *   2. turns it into a string ONCE, then signs that exact string and sends that exact string:
 *        X-Deskbridge-Timestamp: <unix seconds>
 *        X-Deskbridge-Signature: base64(HMAC-SHA256(secret, timestamp + "." + body))
 *   3. POSTs it to <x_deskbridge.base_url>/hooks/<x_deskbridge.connection_id>,
 *   4. shows the agent what deskbridge answered and reloads the form.
 *
 * System properties it reads:
 *   x_deskbridge.base_url       deskbridge's public URL, e.g. https://deskbridge.example.com
 *   x_deskbridge.connection_id  the id of the [[itsm]] block in deskbridge.toml, e.g. snow-prod
 *   x_deskbridge.hook_secret    the shared secret (same text as SNOW_HOOK_SECRET on the deskbridge side)
 *
 * About the key: deskbridge uses the secret's text (its UTF-8 bytes) as the HMAC key.
 * CertificateEncryption.generateMac() wants its key base64-encoded, so the script passes
 * base64(secret text). Do NOT base64-decode the secret, and do not paste it with spaces or
 * a line break at the end.
 *
 * The script never writes the secret to a log or a message.
 *
 * Written in ES5 so it runs in both the Global scope and ES5-mode scoped applications.
 */
(function startRemoteSession(current, action) {
    var PROP_BASE_URL = 'x_deskbridge.base_url';
    var PROP_CONNECTION = 'x_deskbridge.connection_id';
    var PROP_SECRET = 'x_deskbridge.hook_secret';
    var TIMEOUT_MS = 10000;

    // ---- small helpers --------------------------------------------------------------------

    // A field value as a string; empty fields become "" (never null), so the body keeps its shape.
    function str(value) {
        if (value === null || value === undefined) {
            return '';
        }
        return String(value);
    }

    // Escape text for gs.addInfoMessage / gs.addErrorMessage, which may render HTML.
    function esc(text) {
        return str(text)
            .replace(/&/g, '&amp;')
            .replace(/</g, '&lt;')
            .replace(/>/g, '&gt;')
            .replace(/"/g, '&quot;');
    }

    // Write every character outside printable ASCII as a JSON \uXXXX escape. The JSON means the
    // same thing, but the text is now plain ASCII, so the bytes that are signed and the bytes that
    // go on the wire are the same whatever character encoding the instance uses for either step.
    // (Without this, a caller named "Zoë" could make the signature fail.)
    function asciiJson(text) {
        return text.replace(/[\u007f-\uffff]/g, function (ch) {
            return '\\u' + ('0000' + ch.charCodeAt(0).toString(16)).slice(-4);
        });
    }

    function parseJson(text) {
        if (!text) {
            return null;
        }
        try {
            return JSON.parse(text);
        } catch (e) {
            return null;
        }
    }

    function finish() {
        action.setRedirectURL(current);
    }

    // ---- configuration --------------------------------------------------------------------

    var baseUrl = str(gs.getProperty(PROP_BASE_URL, '')).replace(/^\s+|\s+$/g, '').replace(/\/+$/, '');
    var connectionId = str(gs.getProperty(PROP_CONNECTION, '')).replace(/^\s+|\s+$/g, '');
    var secret = str(gs.getProperty(PROP_SECRET, ''));

    var missing = [];
    if (!baseUrl) { missing.push(PROP_BASE_URL); }
    if (!connectionId) { missing.push(PROP_CONNECTION); }
    if (!secret) { missing.push(PROP_SECRET); }
    if (missing.length > 0) {
        gs.addErrorMessage('Remote session not started: deskbridge is not set up on this instance ' +
            '(empty system property: ' + esc(missing.join(', ')) + '). Please tell your ServiceNow administrator.');
        finish();
        return;
    }

    // ---- the body -------------------------------------------------------------------------

    var agent = gs.getUser();
    var payload = {
        event_id: str(gs.generateGUID()),          // fresh per click: deskbridge's delivery id
        table: str(current.getTableName()),        // "incident"
        sys_id: str(current.getUniqueValue()),
        number: str(current.getValue('number')),
        assignment_group: {
            value: str(current.getValue('assignment_group')),          // the group's sys_id
            display_value: str(current.assignment_group.getDisplayValue())  // the group's name = the queue
        },
        priority: str(current.getValue('priority')),
        category: str(current.getValue('category')),
        short_description: str(current.getValue('short_description')),
        caller: {
            name: str(current.caller_id.getDisplayValue()),
            email: str(current.caller_id.email)
        },
        requested_by: {                              // the agent who clicked
            user_name: str(agent.getName()),
            email: str(agent.getEmail())
        }
    };

    // Serialise ONCE. This exact string is signed and sent; nothing may touch it in between.
    var body = asciiJson(JSON.stringify(payload));

    // ---- the signature --------------------------------------------------------------------

    var timestamp = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
    var key = GlideStringUtil.base64Encode(secret);  // generateMac wants the key base64-encoded
    var mac = (typeof CertificateEncryption !== 'undefined')
        ? new CertificateEncryption()
        : new GlideCertificateEncryption();           // older Global-scope name, same method
    var signature = mac.generateMac(key, 'HmacSHA256', timestamp + '.' + body);

    // ---- the call -------------------------------------------------------------------------

    var endpoint = baseUrl + '/hooks/' + encodeURIComponent(connectionId);
    var request = new sn_ws.RESTMessageV2();
    request.setEndpoint(endpoint);
    request.setHttpMethod('post');
    request.setHttpTimeout(TIMEOUT_MS);
    request.setRequestHeader('Content-Type', 'application/json; charset=utf-8');
    request.setRequestHeader('Accept', 'application/json');
    request.setRequestHeader('X-Deskbridge-Timestamp', timestamp);
    request.setRequestHeader('X-Deskbridge-Signature', str(signature));
    request.setRequestBody(body);

    var status = 0;
    var responseText = '';
    var transportError = '';
    try {
        var response = request.execute();
        status = parseInt(response.getStatusCode(), 10) || 0;
        responseText = str(response.getBody());
        if (status === 0) {
            transportError = str(response.getErrorMessage());
        }
    } catch (e) {
        status = 0;
        transportError = str(e && e.message ? e.message : e);
    }

    // ---- the answer -----------------------------------------------------------------------

    var answer = parseJson(responseText) || {};
    var number = esc(payload.number);

    if (status === 0) {
        gs.warn('deskbridge: no answer from ' + endpoint + ' for ' + payload.number + ': ' + transportError);
        gs.addErrorMessage('Remote session not started for ' + number + ': deskbridge could not be reached (' +
            esc(transportError || 'no answer within ' + (TIMEOUT_MS / 1000) + ' seconds') +
            '). Please try again in a minute; if it keeps failing, tell your ServiceNow administrator.');
    } else if (status === 202 && answer.status === 'existing') {
        gs.addInfoMessage('A remote session is already open for ' + number +
            ': its link is in the work notes. No new session was started.');
    } else if (status === 202) {
        gs.addInfoMessage('Remote session requested: the link will appear in the work notes in a few seconds');
    } else if (status === 200 && answer.status === 'ignored') {
        gs.addInfoMessage('No remote session was started for ' + number + ': ' +
            esc(answer.reason || 'no deskbridge rule matches this ticket') + '.');
    } else if (status >= 200 && status < 300) {
        gs.addInfoMessage('deskbridge answered ' + status + ' for ' + number + ': ' +
            esc(answer.status || responseText.substring(0, 200)));
    } else {
        var message = (answer.error && answer.error.message)
            ? answer.error.message
            : (responseText ? responseText.substring(0, 300) : 'no details');
        var code = (answer.error && answer.error.code) ? ' [' + answer.error.code + ']' : '';
        var hint = '';
        if (status === 401) {
            hint = ' The shared secret or the clock does not match deskbridge: tell your ServiceNow administrator.';
        } else if (status === 404) {
            hint = ' deskbridge does not know this connection: tell your ServiceNow administrator.';
        } else if (status === 503 || status === 502 || status === 504 || status === 429) {
            hint = ' deskbridge is busy or restarting: please try again in a minute.';
        }
        gs.warn('deskbridge: HTTP ' + status + code + ' from ' + endpoint + ' for ' + payload.number + ': ' + message);
        gs.addErrorMessage('Remote session not started for ' + number + ' (HTTP ' + status + esc(code) + '): ' +
            esc(str(message).replace(/[.\s]+$/, '')) + '.' + esc(hint));
    }

    finish();
})(current, action);
