-- One row per directed user-to-user interaction: the raw material of the group graph.
-- Replies come from contents (a comment's author -> the parent's author); a comment
-- event whose content is unknown falls back to its target_user_id, so products that
-- send no text still get reply ties, and none is counted twice.
with

events as (
    select * from {{ ref('stg_product__events') }}
),

contents as (
    select * from {{ ref('stg_product__contents') }}
),

event_types as (
    select * from {{ ref('event_types') }}
),

content_replies as (
    select
        -- The key: the reply's content, or below the event (each gives one interaction).
        'content:' || replies.content_id as interaction_id,
        replies.author_user_id as user_id,
        parents.author_user_id as other_user_id,
        'reply' as interaction_kind,
        replies.created_at as occurred_at,
        coalesce(replies.group_id, parents.group_id) as group_id
    from contents as replies
    inner join contents as parents
        on replies.parent_content_id = parents.content_id
),

event_interactions as (
    select
        'event:' || events.event_id as interaction_id,
        events.user_id,
        -- A reaction without target_user_id still points at the reacted content's author.
        coalesce(events.target_user_id, reacted.author_user_id) as other_user_id,
        event_types.interaction_kind,
        events.occurred_at,
        events.group_id
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    left join contents as reacted
        on events.content_id = reacted.content_id
    left join contents as written
        on events.content_id = written.content_id and events.event_type = 'comment'
    where
        event_types.interaction_kind is not null
        -- Comments with a known content are already counted from contents.
        and not (events.event_type = 'comment' and written.content_id is not null)
),

unioned as (
    select * from content_replies
    union all
    select * from event_interactions
),

final as (
    select *
    from unioned
    where other_user_id is not null and user_id != other_user_id
)

select * from final
