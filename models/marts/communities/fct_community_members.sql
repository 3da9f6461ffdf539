-- Members of detected communities at the latest snapshot, each with a role and the
-- figures behind it. Unassigned users are absent (counted in the community_snapshots
-- asset metadata). Roles, first match wins:
--   key_member  top var('key_member_share') of the community by key-member score
--               (weights from the key_member_score_components seed: in-community
--               PageRank 50%, messages 30%, accepted invites 20%, each as a percentile
--               within the community), with PageRank >= var('key_member_min_pagerank')
--   bridge      >= var('bridge_min_share_to_other') of the member's tie weight, and at
--               least var('bridge_min_weight_to_other'), goes to one other community
--   core        >= var('core_min_share_inside') of ties inside, with at least the
--               community's median number of inside neighbours
--   peripheral  everyone else
-- Messages and invites count over the detection window, var('community_window_days').
{{ require_var_value('community_window_days', 28, 'count_messages_4_weeks, count_invites_accepted_4_weeks') }}
with

member_metrics as (
    select * from {{ ref('stg_communities__member_metrics') }}
),

runs as (
    select * from {{ ref('stg_communities__snapshot_runs') }}
),

user_weeks as (
    select * from {{ ref('int_user_activity_weekly') }}
),

score_components as (
    select * from {{ ref('key_member_score_components') }}
),

latest as (
    select max(snapshot_date) as snapshot_date from runs
),

members as (
    select member_metrics.*
    from member_metrics
    inner join latest on member_metrics.snapshot_date = latest.snapshot_date
),

window_activity as (
    -- Messages and accepted invites over the snapshot's window (the
    -- var('community_window_days') / 7 weeks ending with the snapshot's week).
    select
        members.user_id,
        cast(coalesce(sum(user_weeks.count_messages), 0) as bigint) as count_messages_4_weeks,
        cast(coalesce(sum(user_weeks.count_sent_invites_accepted), 0) as bigint)
            as count_invites_accepted_4_weeks,
    from members
    left join user_weeks
        on
            members.user_id = user_weeks.user_id
            and user_weeks.week_start_date
            between cast(date_trunc('week', members.snapshot_date) as date) - 7 * ({{ community_window_weeks() }} - 1)
            and cast(date_trunc('week', members.snapshot_date) as date)
    group by all
),

weights as (
    select
        max(weight) filter (where component = 'pagerank') as pagerank_weight,
        max(weight) filter (where component = 'messages') as messages_weight,
        max(weight) filter (where component = 'invites_accepted') as invites_accepted_weight,
    from score_components
),

scored as (
    select
        members.*,
        window_activity.count_messages_4_weeks,
        window_activity.count_invites_accepted_4_weeks,
        members.weight_to_top_other / nullif(members.weighted_degree, 0) as share_to_top_other,
        weights.pagerank_weight * percent_rank()
            over (
                partition by members.community_id order by members.pagerank_in_community
            )
        + weights.messages_weight * percent_rank()
            over (
                partition by members.community_id order by window_activity.count_messages_4_weeks
            )
        + weights.invites_accepted_weight * percent_rank() over (
            partition by members.community_id
            order by window_activity.count_invites_accepted_4_weeks
        ) as key_member_score,
        count(*) over (partition by members.community_id) as count_community_members,
        median(members.count_neighbours_inside) over (partition by members.community_id)
            as median_neighbours_inside,
    from members
    inner join window_activity on members.user_id = window_activity.user_id
    cross join weights
),

ranked as (
    select
        *,
        row_number() over (
            partition by community_id order by {{ rank_key('key_member_score') }} desc, user_id asc
        ) as key_member_rank,
    from scored
),

flagged as (
    select
        *,
        key_member_rank <= greatest(1, round({{ var('key_member_share') }} * count_community_members))
        and pagerank_in_community >= {{ var('key_member_min_pagerank') }} as is_key_member,
        coalesce(
            share_to_top_other >= {{ var('bridge_min_share_to_other') }}
            and weight_to_top_other >= {{ var('bridge_min_weight_to_other') }},
            false
        ) as is_bridge,
        share_inside >= {{ var('core_min_share_inside') }}
        and count_neighbours_inside >= median_neighbours_inside as is_core,
    from ranked
),

final as (
    select
        user_id,
        community_id,
        snapshot_date,
        case
            when is_key_member then 'key_member'
            when is_bridge then 'bridge'
            when is_core then 'core'
            else 'peripheral'
        end as member_role,
        is_key_member,
        is_bridge,
        round(key_member_score, 4) as key_member_score,
        key_member_rank,
        pagerank_in_community,
        count_messages_4_weeks,
        count_invites_accepted_4_weeks,
        weighted_degree,
        share_inside,
        count_neighbours,
        count_neighbours_inside,
        participation_coefficient,
        count_communities_touched,
        top_other_community_id,
        share_to_top_other,
        weight_to_top_other,
    from flagged
)

select * from final
