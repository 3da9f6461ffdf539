-- The key members to contact for each group of rpt_high_potential_communities, with why:
-- one row per ranked group and key member, at most
-- var('high_potential_key_members_per_group') per group, best first (contact_rank 1).
--   detected communities  the members fct_community_members flags is_key_member (top
--                         var('key_member_share') by key-member score with in-community
--                         PageRank >= var('key_member_min_pagerank')), ranked by that score
--   declared groups       their owners and admins (the declared key members of
--                         fct_community_health's key_member_active_share), ranked by the
--                         same score computed inside the group: the
--                         key_member_score_components seed's weights on the member's
--                         percentiles within the group of in-group tie weight (in place of
--                         PageRank, which exists for detected communities only), messages
--                         and accepted invites over the detection window
-- The reason spells out the three figures behind the score: in-group centrality (PageRank
-- or tie weight, as a multiple of the group's mean), content (posts and comments over the
-- window) and invites (accepted over the window). A ranked group without key members
-- (no member passes the rule, or a declared group without owner or admin among its
-- members) has no row.
{{ require_var_value('community_window_days', 28, 'count_messages_4_weeks, count_invites_accepted_4_weeks') }}
with

ranked as (
    select * from {{ ref('rpt_high_potential_communities') }}
),

detected_members as (
    select * from {{ ref('fct_community_members') }}
),

group_members as (
    select * from {{ ref('int_group_members_weekly') }}
    where group_kind = 'declared'
),

group_memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

edges as (
    select * from {{ ref('int_user_edges_weekly') }}
),

user_weeks as (
    select * from {{ ref('int_user_activity_weekly') }}
),

score_components as (
    select * from {{ ref('key_member_score_components') }}
),

weights as (
    select
        max(weight) filter (where component = 'pagerank') as centrality_weight,
        max(weight) filter (where component = 'messages') as messages_weight,
        max(weight) filter (where component = 'invites_accepted') as invites_accepted_weight,
    from score_components
),

detected_keys as (
    select
        ranked.potential_rank,
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        detected_members.user_id,
        'key_member' as member_role,
        'pagerank' as centrality_measure,
        detected_members.key_member_score,
        detected_members.pagerank_in_community as centrality_in_group,
        detected_members.count_neighbours_inside,
        detected_members.share_inside,
        detected_members.count_messages_4_weeks,
        detected_members.count_invites_accepted_4_weeks,
    from ranked
    inner join detected_members
        on ranked.community_id = detected_members.community_id
    where ranked.group_kind = 'detected' and detected_members.is_key_member
),

roster as (
    -- Members of the ranked declared groups at the ranked snapshot.
    select
        ranked.potential_rank,
        ranked.snapshot_date,
        ranked.group_kind,
        ranked.community_id,
        group_members.user_id,
    from ranked
    inner join group_members
        on
            ranked.community_id = group_members.community_id
            and ranked.snapshot_date = group_members.snapshot_date
    where ranked.group_kind = 'declared'
),

window_edges as (
    -- Both directions of every tie of a roster member over the window weeks.
    select
        roster.community_id,
        roster.user_id,
        case when edges.user_id_a = roster.user_id then edges.user_id_b else edges.user_id_a end
            as other_user_id,
        edges.interaction_weight,
    from roster
    inner join edges
        on
            (roster.user_id = edges.user_id_a or roster.user_id = edges.user_id_b)
            and edges.week_start_date
            between cast(date_trunc('week', roster.snapshot_date) as date) - 7 * ({{ community_window_weeks() }} - 1)
            and cast(date_trunc('week', roster.snapshot_date) as date)
),

ties as (
    select
        window_edges.community_id,
        window_edges.user_id,
        sum(window_edges.interaction_weight) as weighted_degree,
        coalesce(sum(window_edges.interaction_weight) filter (
            where inside.user_id is not null
        ), 0) as weight_inside,
        count(distinct window_edges.other_user_id) filter (
            where inside.user_id is not null
        ) as count_neighbours_inside,
    from window_edges
    left join roster as inside
        on
            window_edges.community_id = inside.community_id
            and window_edges.other_user_id = inside.user_id
    group by all
),

window_activity as (
    select
        roster.community_id,
        roster.user_id,
        cast(coalesce(sum(user_weeks.count_messages), 0) as bigint) as count_messages_4_weeks,
        cast(coalesce(sum(user_weeks.count_sent_invites_accepted), 0) as bigint)
            as count_invites_accepted_4_weeks,
    from roster
    left join user_weeks
        on
            roster.user_id = user_weeks.user_id
            and user_weeks.week_start_date
            between cast(date_trunc('week', roster.snapshot_date) as date) - 7 * ({{ community_window_weeks() }} - 1)
            and cast(date_trunc('week', roster.snapshot_date) as date)
    group by all
),

roles as (
    -- A member's highest declared role (owner, then admin) among its memberships open
    -- at the snapshot (int_group_members_weekly's rule).
    select
        roster.community_id,
        roster.user_id,
        case when bool_or(group_memberships.role = 'owner') then 'owner' else 'admin' end
            as member_role,
    from group_memberships
    inner join roster
        on
            'group:' || group_memberships.group_id = roster.community_id
            and group_memberships.user_id = roster.user_id
            and cast(group_memberships.joined_at as date) <= roster.snapshot_date
            and (
                group_memberships.left_at is null
                or cast(group_memberships.left_at as date) > roster.snapshot_date
            )
    where group_memberships.role in ('owner', 'admin')
    group by all
),

declared_scored as (
    select
        roster.*,
        roles.member_role,
        coalesce(ties.weight_inside, 0) as weight_inside,
        coalesce(ties.count_neighbours_inside, 0) as count_neighbours_inside,
        coalesce(ties.weight_inside, 0) / nullif(ties.weighted_degree, 0) as share_inside,
        window_activity.count_messages_4_weeks,
        window_activity.count_invites_accepted_4_weeks,
        weights.centrality_weight * percent_rank()
            over (
                partition by roster.community_id order by coalesce(ties.weight_inside, 0)
            )
        + weights.messages_weight * percent_rank()
            over (
                partition by roster.community_id order by window_activity.count_messages_4_weeks
            )
        + weights.invites_accepted_weight * percent_rank() over (
            partition by roster.community_id
            order by window_activity.count_invites_accepted_4_weeks
        ) as key_member_score,
        avg(coalesce(ties.weight_inside, 0)) over (partition by roster.community_id)
            as mean_weight_inside,
    from roster
    inner join window_activity
        on
            roster.community_id = window_activity.community_id
            and roster.user_id = window_activity.user_id
    left join ties
        on
            roster.community_id = ties.community_id
            and roster.user_id = ties.user_id
    left join roles
        on
            roster.community_id = roles.community_id
            and roster.user_id = roles.user_id
    cross join weights
),

declared_keys as (
    select
        potential_rank,
        snapshot_date,
        group_kind,
        community_id,
        user_id,
        member_role,
        'tie_weight' as centrality_measure,
        round(key_member_score, 4) as key_member_score,
        weight_inside / nullif(mean_weight_inside, 0) as centrality_in_group,
        count_neighbours_inside,
        share_inside,
        count_messages_4_weeks,
        count_invites_accepted_4_weeks,
    from declared_scored
    where member_role is not null
),

keys as (
    select * from detected_keys
    union all
    select * from declared_keys
),

numbered as (
    select
        keys.*,
        row_number() over (
            partition by keys.group_kind, keys.community_id
            order by {{ rank_key('keys.key_member_score') }} desc, keys.user_id asc
        ) as contact_rank,
    from keys
),

final as (
    select
        potential_rank,
        contact_rank,
        snapshot_date,
        group_kind,
        community_id,
        user_id,
        member_role,
        key_member_score,
        centrality_measure,
        centrality_in_group,
        count_neighbours_inside,
        share_inside,
        count_messages_4_weeks,
        count_invites_accepted_4_weeks,
        case when member_role = 'key_member' then 'key member' else member_role end
        || ': in-group centrality '
        || coalesce(round(centrality_in_group, 1) || 'x the group mean', 'n/a')
        || ' (' || case centrality_measure when 'pagerank' then 'PageRank' else 'tie weight' end
        || ', ' || count_neighbours_inside || ' neighbours inside'
        || coalesce(', ' || cast(round(100 * share_inside) as integer) || '% of ties inside', '')
        || '); content ' || count_messages_4_weeks || ' posts and comments in 4 weeks'
        || '; invites ' || count_invites_accepted_4_weeks || ' accepted in 4 weeks'
            as reason,
    from numbered
    where contact_rank <= {{ var('high_potential_key_members_per_group') }}
)

select * from final
