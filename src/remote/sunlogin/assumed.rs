//! Every Sunlogin (向日葵, Oray 贝锐) API fact that is **assumed**, not verified: the items marked
//! [assumed] in `shared/contracts/sunlogin.md`. The public copies of Oray's documentation show
//! the catalogue and the identity rules, not the signature algorithm, the base URL, the paths,
//! the envelope or the field names. Nothing else in the adapter hard-codes any of these: correct
//! them here against the 贝锐 project console's API pages (`integrations/sunlogin/README.md`
//! lists each one, for an admin to check).
//!
//! The base URL is not here: there is no known default, so `base_url` is required in the
//! configuration and comes from the project console.

// ---- Signature (平台签名校验) ----

/// The project's APP Key, as given.
pub const HEADER_APP_KEY: &str = "X-Appkey";
/// Unix seconds when the call was signed.
pub const HEADER_TIMESTAMP: &str = "X-Timestamp";
/// A random string used once.
pub const HEADER_NONCE: &str = "X-Nonce";
/// `hex(HMAC-SHA256(APP Secret, string_to_sign(...)))`.
pub const HEADER_SIGNATURE: &str = "X-Signature";
/// Nonce length in characters (the contract asks for 16 or more).
pub const NONCE_LEN: usize = 32;

/// The string that is signed: `METHOD \n PATH_AND_QUERY \n TIMESTAMP \n NONCE \n hex(SHA256(body))`,
/// where PATH_AND_QUERY is the request target exactly as sent (percent-encoded, with `?query`
/// when there is one) and the body hash is over the exact bytes sent (empty for a GET).
pub fn string_to_sign(
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body_sha256_hex: &str,
) -> String {
    format!(
        "{}\n{path_and_query}\n{timestamp}\n{nonce}\n{body_sha256_hex}",
        method.to_ascii_uppercase()
    )
}

// ---- Envelope ----

/// `{"code": 0, "message": "ok", "data": ...}`; `code != 0` is an error whose message is shown.
pub const CODE_KEY: &str = "code";
pub const MESSAGE_KEY: &str = "message";
pub const DATA_KEY: &str = "data";
pub const OK_CODE: i64 = 0;

// ---- Identity (身份授权 / 续租授权): names verified, paths and fields assumed ----

/// 身份授权: body `{"account", "password"}` → `data {access_token, refresh_token}`.
pub const AUTHORIZE_PATH: &str = "/api/v1/auth/authorize";
pub const ACCOUNT_FIELD: &str = "account";
pub const PASSWORD_FIELD: &str = "password";
/// 续租授权: body `{"refresh_token"}` → `data {access_token, refresh_token}`.
pub const REFRESH_PATH: &str = "/api/v1/auth/refresh";
pub const REFRESH_FIELD: &str = "refresh_token";
/// Keys of the token answer.
pub const ACCESS_TOKEN_KEY: &str = "access_token";
pub const REFRESH_TOKEN_KEY: &str = "refresh_token";

// ---- Logs: names verified, paths, parameters and fields assumed ----

/// 查询远程日志列表: `GET ?start_time=&end_time=&page=&page_size=`.
pub const REMOTE_LOGS_PATH: &str = "/api/v1/logs/remote";
/// 查询文件传输日志: `GET ?log_id=&page=&page_size=`.
pub const FILE_TRANSFER_PATH: &str = "/api/v1/logs/file_transfer";
/// 查询坐席日志: `GET ?seat=&start_time=&end_time=&page=&page_size=`.
pub const SEAT_LOGS_PATH: &str = "/api/v1/seats/logs";

/// Query parameters (times are Unix seconds; pages count from 1).
pub const START_PARAM: &str = "start_time";
pub const END_PARAM: &str = "end_time";
pub const PAGE_PARAM: &str = "page";
pub const PAGE_SIZE_PARAM: &str = "page_size";
pub const LOG_ID_PARAM: &str = "log_id";
pub const SEAT_PARAM: &str = "seat";
/// Page size asked for (and the server's assumed cap).
pub const PAGE_SIZE: usize = 100;
/// Paged answers: `data {list: [...], total}`.
pub const LIST_KEY: &str = "list";
pub const TOTAL_KEY: &str = "total";

/// Remote log row: `{"log_id","seat_account","device_id","remote_code","client_ip","start_time","end_time","duration"}`.
pub const LOG_ID: &str = "log_id";
pub const SEAT_ACCOUNT: &str = "seat_account";
pub const DEVICE_ID: &str = "device_id";
pub const REMOTE_CODE: &str = "remote_code";
pub const START_TIME: &str = "start_time";
/// Null while the session runs.
pub const END_TIME: &str = "end_time";
pub const REMOTE_LOG_FIELDS: [&str; 8] = [
    LOG_ID,
    SEAT_ACCOUNT,
    DEVICE_ID,
    REMOTE_CODE,
    "client_ip",
    START_TIME,
    END_TIME,
    "duration",
];
/// File transfer row, in CSV order.
pub const FILE_TRANSFER_FIELDS: [&str; 5] = ["log_id", "file_name", "size", "direction", "time"];
/// Seat log row. The contract names the call but gives no row shape at all: these four are a
/// guess, and whatever else a row carries is kept in the last CSV column as JSON.
pub const SEAT_LOG_FIELDS: [&str; 4] = ["time", "seat_account", "event", "detail"];
/// Fields holding Unix seconds (written as RFC 3339 UTC in the CSV files).
pub const TIME_FIELDS: [&str; 3] = [START_TIME, END_TIME, "time"];

// ---- Errors ----

/// HTTP 401 on a business call means the AccessToken is expired or invalid (verified); 401 on
/// 续租授权 means the grant is gone (verified). What a bad signature or a replayed nonce gets is
/// not known: the adapter does not rely on it (any non-401 refusal is permanent and shown).
pub const TOKEN_REFUSED_STATUS: u16 = 401;

/// The test call of `check --online` is a token grant (身份授权, [`AUTHORIZE_PATH`]): it checks
/// the app's key and secret (the signature) and the account together. What a refusal means
/// (integrations/sunlogin/README.md):
pub const ADVICE: crate::outbound::Advice = crate::outbound::Advice {
    unauthorized: "check auth.app_key and auth.app_secret (the 贝锐 project console) and \
        auth.account and auth.password of this vendor",
    forbidden: "the 贝锐 project needs the remote-log and file-transfer API products for this \
        account",
};
