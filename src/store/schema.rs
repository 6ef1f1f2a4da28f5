//! Table definitions, kept by hand so they use only types both backends share.

diesel::table! {
    agents (id) {
        id -> Text,
        employee_id -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        status -> Text,
        max_chats -> Integer,
        active_chats -> Integer,
        disabled -> Integer,
        created_at -> BigInt,
        last_assigned_at -> BigInt,
    }
}

diesel::table! {
    visitors (id) {
        id -> Text,
        name -> Text,
        created_at -> BigInt,
        page_url -> Nullable<Text>,
        page_title -> Nullable<Text>,
        referrer -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        last_seen_at -> Nullable<BigInt>,
        last_ip -> Nullable<Text>,
        lang -> Nullable<Text>,
        site_id -> Nullable<Text>,
        customer_id -> Nullable<Text>,
        email -> Nullable<Text>,
        verified -> Integer,
        identity_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    chats (id) {
        id -> Text,
        visitor_id -> Text,
        agent_id -> Nullable<Text>,
        status -> Text,
        last_seq -> BigInt,
        created_at -> BigInt,
        last_activity_at -> BigInt,
        closed_at -> Nullable<BigInt>,
        close_reason -> Nullable<Text>,
        queue_ticket -> Nullable<BigInt>,
        queue_position -> Nullable<Integer>,
        visitor_read_seq -> BigInt,
        agent_read_seq -> BigInt,
        prechat -> Nullable<Text>,
    }
}

diesel::table! {
    messages (chat_id, seq) {
        chat_id -> Text,
        seq -> BigInt,
        kind -> Text,
        client_msg_id -> Nullable<Text>,
        payload -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    tokens (token_hash) {
        token_hash -> Text,
        principal_kind -> Text,
        principal_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    announcements (id) {
        id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(chats -> visitors (visitor_id));
diesel::joinable!(messages -> chats (chat_id));
diesel::table! {
    ratings (chat_id) {
        chat_id -> Text,
        agent_id -> Text,
        visitor_id -> Text,
        score -> Integer,
        comment -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    offline_messages (id) {
        id -> Text,
        visitor_id -> Text,
        name -> Text,
        email -> Text,
        body -> Text,
        created_at -> BigInt,
        lang -> Nullable<Text>,
        answer -> Nullable<Text>,
        answered_by -> Nullable<Text>,
        answered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    bans (id) {
        id -> Text,
        visitor_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        lifted_at -> Nullable<BigInt>,
        lifted_by -> Nullable<Text>,
    }
}

diesel::table! {
    canned_replies (id) {
        id -> Text,
        owner_id -> Nullable<Text>,
        shortcut -> Text,
        body -> Text,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    feed_events (pos) {
        pos -> BigInt,
        kind -> Text,
        chat_id -> Nullable<Text>,
        seq -> Nullable<BigInt>,
        ref_id -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        channel -> Text,
        target -> Text,
        event_pos -> Nullable<BigInt>,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_at -> BigInt,
        locked_until -> BigInt,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        done_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    integration_keys (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        key_prefix -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    switches (name) {
        name -> Text,
        value -> Text,
        updated_by -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::joinable!(ratings -> chats (chat_id));
diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        enabled -> Integer,
        disabled_reason -> Nullable<Text>,
        consecutive_failures -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    webhook_subscriptions (kind, endpoint_id) {
        kind -> Text,
        endpoint_id -> Text,
    }
}

diesel::table! {
    sites (id) {
        id -> Text,
        name -> Text,
        origins -> Text,
        secret_sealed -> Text,
        secret_prefix -> Text,
        secret_rotated_at -> BigInt,
        greeting -> Nullable<Text>,
        color -> Nullable<Text>,
        default_lang -> Nullable<Text>,
        require_verified -> Integer,
        prechat_form -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    page_views (id) {
        id -> Text,
        visitor_id -> Text,
        url -> Text,
        title -> Nullable<Text>,
        at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> BigInt,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    agent_tallies (agent_id) {
        agent_id -> Text,
        chats_closed -> BigInt,
        ratings -> BigInt,
        score_sum -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    agents,
    visitors,
    chats,
    messages,
    tokens,
    counters,
    announcements,
    ratings,
    offline_messages,
    bans,
    canned_replies,
    feed_events,
    outbox,
    webhook_endpoints,
    webhook_subscriptions,
    integration_keys,
    switches,
    sites,
    page_views,
    audit_log,
    agent_tallies,
);
