/*
 * routes.c - every route keyd answers. docs/api/openapi.yaml describes
 * exactly these (tests/integration/openapi.test.mjs compares them through
 * `sealpost-keyd --list-routes`).
 */
#include "api.h"
#include "attest.h"

const ks_route ks_routes[] = {
    {"POST", "/v1/messages", api_message_create, 0},
    {"GET", "/v1/messages/{id}/status", api_message_status, 0},
    {"POST", "/v1/messages/{id}/key", api_key_release, 0},
    {"GET", "/v1/messages", api_messages_list, 0},
    {"GET", "/v1/brand", api_brand_get, 0},
    {"GET", "/v1/messages/{id}/brand", api_message_brand, 0},
    {"PUT", "/v1/org/reply-keys/{kid}", api_reply_key_put, 0},
    {"GET", "/v1/attestation-keys", api_attestation_keys, 0},
    {"POST", "/v1/messages/{id}/replies", api_answer_post, ROUTE_SLOW | ROUTE_UPLOAD},
    {"GET", "/v1/compose", api_compose_get, 0},
    {"POST", "/v1/compose/{org}", api_compose_post, ROUTE_SLOW | ROUTE_UPLOAD},
    {"GET", "/v1/messages/{id}", api_message_get, 0},
    {"POST", "/v1/messages/{id}/lock", api_message_lock, 0},
    {"POST", "/v1/messages/{id}/unlock", api_message_unlock, 0},
    {"PATCH", "/v1/messages/{id}", api_message_patch, 0},
    {"DELETE", "/v1/messages/{id}/key", api_message_recall, 0},
    {"POST", "/v1/accounts", api_account_register, ROUTE_SLOW},
    {"POST", "/v1/accounts/activate", api_account_activate, ROUTE_SLOW},
    {"POST", "/v1/accounts/reset", api_reset_request, ROUTE_SLOW},
    {"POST", "/v1/accounts/reset/questions", api_reset_questions, 0},
    {"POST", "/v1/accounts/reset/confirm", api_reset_confirm, ROUTE_SLOW},
    {"POST", "/v1/sessions", api_session_create, ROUTE_SLOW},
    {"DELETE", "/v1/sessions/current", api_session_delete, 0},
    {"DELETE", "/v1/sessions", api_sessions_delete_all, 0},
    {"GET", "/v1/session", api_session_get, 0},
    {"GET", "/v1/account", api_account_get, 0},
    {"PATCH", "/v1/account", api_account_patch, 0},
    {"POST", "/v1/account/password", api_account_password, ROUTE_SLOW},
    {"PUT", "/v1/account/questions", api_questions_put, ROUTE_SLOW},
    {"DELETE", "/v1/account", api_account_delete, ROUTE_SLOW},
    {"GET", "/healthz", api_healthz, 0},
    {"GET", "/readyz", api_readyz, 0},
    {"GET", "/metrics", api_metrics, 0},
    {"GET", "/", page_serve, ROUTE_PAGE},
    {"GET", "/activate", page_serve, ROUTE_PAGE},
    {"GET", "/reset", page_serve, ROUTE_PAGE},
    {"GET", "/open", page_serve, ROUTE_PAGE},
    {"GET", "/signin", page_serve, ROUTE_PAGE},
    {"GET", "/forgot", page_serve, ROUTE_PAGE},
    {"GET", "/account", page_serve, ROUTE_PAGE},
    {"GET", "/messages", page_serve, ROUTE_PAGE},
    {"GET", "/assets/{name}", page_serve, ROUTE_PAGE},
    {NULL, NULL, NULL, 0},
};
